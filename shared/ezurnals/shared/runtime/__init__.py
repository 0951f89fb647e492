"""Running ezurnals on one machine: embedded PostgreSQL and Kafka, and the process supervisor."""
