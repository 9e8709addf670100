-- The tenant profile's own database (docker-compose.yml, README "A tenant of its own").
-- The postgres image runs this once, when its data folder is first made.
create database mission_control_acme;
