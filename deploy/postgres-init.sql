-- One server, two databases: Dagster's instance (runs, event logs, schedules) and the warehouse.
create database recon_dagster;
create database recon_warehouse;
