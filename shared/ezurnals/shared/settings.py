"""Settings of one service process, from the environment (pydantic-settings).

``DATABASE_URL`` is that service's own database; ``KAFKA_BOOTSTRAP_SERVERS`` the broker. Everything
else is prefixed ``EZURNALS_``.
"""

from __future__ import annotations

import ssl
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES: tuple[str, ...] = ("identity", "lessons", "attendance", "grading", "reporting")


def database_name(service: str) -> str:
    """The database a service owns on a server it shares (the local stack, the tests)."""
    return f"ezurnals_{service}"


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
    #: PLAINTEXT for the local broker; SASL_SSL for Strimzi's listener (SCRAM-SHA-512 over TLS).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_SSL"] = "PLAINTEXT"
    #: PEM file of the CA that signed the brokers' certificates (Strimzi's cluster CA).
    kafka_ssl_cafile: str | None = None
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    #: The service's KafkaUser, whose ACLs say which topics and groups it may use.
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    topic_prefix: str = "ezurnals."
    topic_partitions: int = 6
    #: Apache Kafka: on. Tansu (the embedded broker) has no idempotent producer.
    kafka_idempotence: bool = False
    #: Peers whose ``X-Forwarded-For`` names the client (comma-separated addresses or networks,
    #: ``*`` for any): the Ingress controller's, and for identity the web app's. From any other
    #: peer the header is ignored. uvicorn's own variable, so the servers read one setting.
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        validation_alias=AliasChoices("FORWARDED_ALLOW_IPS", "EZURNALS_FORWARDED_ALLOW_IPS"),
    )
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

    def kafka_security(self) -> dict[str, object]:
        """The aiokafka client options that encrypt and authenticate; none for PLAINTEXT."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        options: dict[str, object] = {
            "security_protocol": self.kafka_security_protocol,
            "ssl_context": ssl.create_default_context(cafile=self.kafka_ssl_cafile),
        }
        if self.kafka_security_protocol == "SASL_SSL":
            password = self.kafka_sasl_password
            options |= {
                "sasl_mechanism": self.kafka_sasl_mechanism,
                "sasl_plain_username": self.kafka_sasl_username,
                "sasl_plain_password": password.get_secret_value() if password else None,
            }
        return options

    def topic(self, service: str) -> str:
        return f"{self.topic_prefix}{service}.events"

    def dead_letter_topic(self, service: str) -> str:
        return f"{self.topic(service)}.DLT"
