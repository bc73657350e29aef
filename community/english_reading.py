"""What a message written only in English asks for (a foreign spouse, a visitor, a carer from
abroad), so that it is not answered only with "I can only understand Chinese": someone in danger
now, a person asked for, the assistant's voice or text, or a service named by its English name
(catalogue/english.yml and the English aliases). Anything else still gets that line.

Only a few plain phrases are read: the classifier learns no English, and a wrong guess here
would alarm staff or answer the wrong service, so a message says it outright or is not read.
"""

from __future__ import annotations

import enum
import re

# Danger now, said outright (Help! My husband hit me; my father fell down and can't get up;
# there is a fire): the 110/119/120 line first, and staff told.
_DANGER = re.compile(
    r"\b(?:help\s*!|help me\s*!|save me|hit(?:s|ting)? me|beat(?:s|ing)? me|hurt(?:s|ing)? me|"
    r"attack(?:ed|ing)? me|kill(?:ing)? me|threaten(?:s|ed|ing)? me|"
    r"(?:on|a|there is a|there's a) fire|fire\s*!|smoke everywhere|smell(?:s|ing)? (?:of )?gas|gas leak|"
    r"can'?t breathe|cannot breathe|not breathing|unconscious|fainted|passed out|collapsed|"
    r"fell (?:down|over)?\s*(?:and )?(?:can'?t|cannot) (?:get|stand) up|heart attack|chest pain|"
    r"bleeding a lot|call (?:an )?ambulance|call the police|"
    r"(?:child|son|daughter|kid|mother|father|mom|dad) is missing|lost my (?:child|son|daughter|kid)|"
    r"trapped in|stuck in the (?:lift|elevator))",
    re.I,
)
# A person asked for (Can I talk to a real person please).
_PERSON = re.compile(
    r"\b(?:real person|human being|staff member|customer service|operator|"
    r"(?:talk|speak|chat) (?:to|with) (?:a |some)?(?:one|body|person|staff|human))\b",
    re.I,
)
# The assistant itself: voice input, text too small, speech too fast.
_VOICE = re.compile(r"\b(?:voice|speak instead|talk instead|microphone|can'?t type|cannot type)\b", re.I)
_LARGE = re.compile(
    r"\b(?:(?:text|font|letters|words|characters) (?:is |are )?(?:too |so |very )?(?:small|tiny)|"
    r"bigger (?:text|font|letters)|larger (?:text|font|letters)|zoom in)\b",
    re.I,
)
_SLOW = re.compile(r"\b(?:slow(?:er)? down|speak slower|talk slower|too fast)\b", re.I)


class EnglishAsk(enum.Enum):
    DANGER = "danger"
    PERSON = "person"
    VOICE = "voice"
    LARGE = "large"
    SLOW = "slow"


# The line added, in English, to what the resident gets back for each.
ENGLISH_LINES = {
    EnglishAsk.DANGER: (
        "If you are in danger now, call 110 (police), 119 (fire) or 120 (ambulance). "
        "Community staff have been told."
    ),
    EnglishAsk.PERSON: "A community staff member will answer you here.",
    EnglishAsk.VOICE: "Press the microphone button and speak; Chinese works best.",
    EnglishAsk.LARGE: "In the web chat, large text (大字模式) is now on.",
    EnglishAsk.SLOW: "I will speak more slowly.",
    None: "Here is that service (in Chinese); staff can help in person.",
}
# The Chinese words the interface answer reads its kind from.
INTERFACE_WORDS = {EnglishAsk.VOICE: "语音", EnglishAsk.LARGE: "字太小", EnglishAsk.SLOW: "说慢点"}


def english_ask(text: str) -> EnglishAsk | None:
    """What an English-only message asks for, the first that it says: danger, a person, then
    the assistant's voice, text size or speed; ``None`` when it says none of them."""
    for ask, pattern in (
        (EnglishAsk.DANGER, _DANGER), (EnglishAsk.PERSON, _PERSON), (EnglishAsk.VOICE, _VOICE),
        (EnglishAsk.LARGE, _LARGE), (EnglishAsk.SLOW, _SLOW),
    ):
        if pattern.search(text or ""):
            return ask
    return None
