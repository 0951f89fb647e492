"""Running ezurnals on one machine: embedded or containerised PostgreSQL and Kafka (the local
runner itself, which supervises the processes, is ``ezurnals.tools.supervisor``)."""
