"""Internal consistency (CONTRACT §6): our own services must tell the same story."""
