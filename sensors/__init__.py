"""Sensors and schedules: pick up new input (inbox, SFTP, Kafka) and close pay cycles."""
