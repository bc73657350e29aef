"""The phone line's settings (read through :mod:`community.config`).

| Variable | Default | Meaning |
|---|---|---|
| ``SIP_HOST`` | ``127.0.0.1`` | the interface the SIP endpoint (UDP) and its RTP bind to |
| ``SIP_PORT`` | 5060 | UDP port for SIP; calls to ``sip:assistant@SIP_HOST:SIP_PORT`` are answered |
| ``SIP_REGISTRAR``, ``SIP_USER``, ``SIP_PASSWORD`` | – | register to a PBX as this extension |
| ``SIP_DIAL_DOMAIN`` | the registrar | where numbers are dialled (a PBX, trunk or ATA: ``host:port``) |
| ``STAFF_EXTENSION`` | – | ``#``/"找人工" transfers here in ``STAFF_HOURS`` (number or ``sip:`` URI) |
| ``PHONE_MAX_CALLS`` | 4 | calls at once (PJSIP's limit in this wheel is 4); one more hears busy (486) |
| ``PHONE_RTP_PORT`` | 40000 | first RTP port (each call takes the next free ones) |
| ``OUTREACH_CALLS`` | on | the monthly check-in calls (月探访) are placed by this process |
| ``OUTREACH_RING_SECONDS`` | 40 | an outreach call not answered by then counts as not reached |
"""

from __future__ import annotations

from dataclasses import dataclass

from community.config import environment, port, read_section, text
from community.settings import Settings


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("use on or off")


@dataclass(frozen=True)
class PhoneSettings:
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    sip_registrar: str = ""
    sip_user: str = "assistant"
    sip_password: str = ""
    sip_dial_domain: str = ""
    staff_extension: str = ""
    max_calls: int = 4
    rtp_port: int = 40000
    outreach_calls: bool = True
    outreach_ring_seconds: float = 40.0
    # How long a call may go on without any key or speech before it says goodbye.
    idle_seconds: float = 45.0
    # An answer is read this many sentences at a time; the rest when the caller asks (key 5).
    answer_sentences: int = 3
    max_sentence_chars: int = 20
    gain_step: float = 1.4
    max_gain: float = 2.8
    log_level: int = 1  # PJSIP's console log level (0-6)
    # From the community settings: told to callers.
    community_phone: str = Settings.community_phone
    staff_hours: str = Settings.staff_hours

    def __post_init__(self) -> None:
        if not 1 <= self.max_calls <= 4:
            raise ValueError("PHONE_MAX_CALLS must be 1-4 (PJSIP's limit in this build)")
        if not 1024 <= self.rtp_port <= 65000:
            raise ValueError("PHONE_RTP_PORT must be 1024-65000")
        if self.sip_registrar and not (self.sip_user and self.sip_password):
            raise ValueError("SIP_REGISTRAR needs SIP_USER and SIP_PASSWORD")
        if not 5 <= self.outreach_ring_seconds <= 300:
            raise ValueError("OUTREACH_RING_SECONDS must be 5-300")
        if self.idle_seconds <= 0 or self.answer_sentences < 1:
            raise ValueError("idle_seconds and answer_sentences must be positive")

    @property
    def domain(self) -> str:
        """The SIP domain calls are made in: the PBX's when registered, else our own address."""
        if self.sip_registrar:
            return self.sip_registrar.removeprefix("sip:").split(";")[0]
        return f"{self.sip_host}:{self.sip_port}"

    @property
    def local_uri(self) -> str:
        return f"sip:{self.sip_user}@{self.domain}"

    def uri_for(self, number: str) -> str:
        """A dialable SIP URI for a phone number, extension or URI."""
        number = number.strip()
        if number.startswith(("sip:", "sips:")):
            return number
        return f"sip:{number}@{self.sip_dial_domain.removeprefix('sip:') or self.domain}"

    @property
    def staff_uri(self) -> str:
        return self.uri_for(self.staff_extension) if self.staff_extension else ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> PhoneSettings:
        env = environment() if env is None else env
        community = Settings.from_env(env)
        return read_section(
            cls,
            env,
            {
                "sip_host": ("SIP_HOST", text),
                "sip_port": ("SIP_PORT", port),
                "sip_registrar": ("SIP_REGISTRAR", text),
                "sip_user": ("SIP_USER", text),
                "sip_password": ("SIP_PASSWORD", text),
                "sip_dial_domain": ("SIP_DIAL_DOMAIN", text),
                "staff_extension": ("STAFF_EXTENSION", text),
                "max_calls": ("PHONE_MAX_CALLS", int),
                "rtp_port": ("PHONE_RTP_PORT", port),
                "outreach_calls": ("OUTREACH_CALLS", _flag),
                "outreach_ring_seconds": ("OUTREACH_RING_SECONDS", float),
                "log_level": ("SIP_LOG_LEVEL", int),
            },
            community_phone=community.community_phone,
            staff_hours=community.staff_hours,
        )
