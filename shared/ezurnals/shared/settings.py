"""Settings of one service process, from the environment (pydantic-settings).

``DATABASE_URL`` is that service's own database; ``KAFKA_BOOTSTRAP_SERVERS`` the broker. Everything
else is prefixed ``EZURNALS_``.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES: tuple[str, ...] = ("identity", "lessons", "attendance", "grading", "reporting")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EZURNALS_", extra="ignore", frozen=True)

    service: str = "identity"
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        validation_alias=AliasChoices("DATABASE_URL", "EZURNALS_DATABASE_URL"),
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "EZURNALS_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    topic_prefix: str = "ezurnals."
    topic_partitions: int = 6
    #: Apache Kafka: on. Tansu (the embedded broker) has no idempotent producer.
    kafka_idempotence: bool = False
    log_level: str = "INFO"
    log_json: bool = True
    #: Connections one process may hold at once (asyncpg's pool; requests beyond wait for one).
    #: Kept, not closed, while they are used: size the server's max_connections for every
    #: process's pool together.
    db_pool_size: int = 10
    #: identity's JWKS, for services that verify tokens.
    jwks_url: str | None = None
    #: How often a failing event is retried before it goes to the dead-letter topic.
    consumer_max_attempts: int = 3
    #: Schema holding the read models that consumers build.
    read_model_schema: str = "rm"
    #: How long an API process remembers a revocation read from identity's topic, and how far
    #: back it starts reading at start-up: longer than any access token lives (identity issues
    #: them for 15 minutes), after which every token it names is refused as expired anyway.
    revocation_memory_s: float = 3600.0
    #: reporting: families' diary weeks an API process keeps answered in memory (each forgotten
    #: when PostgreSQL notices a change to what it was built from); 0 keeps none.
    diary_cache_entries: int = 5000

    def topic(self, service: str) -> str:
        return f"{self.topic_prefix}{service}.events"

    def dead_letter_topic(self, service: str) -> str:
        return f"{self.topic(service)}.DLT"
