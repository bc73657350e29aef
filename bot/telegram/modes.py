"""How a chat reads and hears the assistant: 长辈模式 and voice replies.

长辈模式 (big buttons, a service's answer as its essentials with the phone, the rest on buttons,
spoken) is switched by /elder, by the 长辈模式 button, by words (长辈模式, 字大一点, 读给我听:
:func:`bot.telegram.texts.elder_words`) and by the assistant's answer to a question about the
assistant itself (字太小, 看不清: ``custom.interface``). Voice is promised only when it is there:
no spoken replies without a synthesiser, no "发语音" without a recogniser.
"""

from __future__ import annotations

from telegram import ReplyKeyboardMarkup

from bot.resident.service import ResidentService
from bot.telegram import texts
from bot.telegram.chats import Chats
from bot.telegram.delivery import Delivery
from bot.telegram.keyboards import menu_keyboard
from bot.telegram.settings import TelegramSettings


class Modes:
    def __init__(
        self, settings: TelegramSettings, service: ResidentService, delivery: Delivery, chats: Chats
    ) -> None:
        self.settings = settings
        self.service = service
        self.delivery = delivery
        self.chats = chats

    def keyboard(self, chat_id: int) -> ReplyKeyboardMarkup:
        """The big buttons as this chat has them (taller in 长辈模式)."""
        return menu_keyboard(self.chats[chat_id].elder)

    async def elder(
        self, chat_id: int, on: bool | None = None, *, spoke: bool = False, tip: str = ""
    ) -> None:
        """Switch 长辈模式 ``on``/off (None: the other way) and say so with the chat's keyboard;
        voice replies go with it when the bot can speak."""
        state = self.chats[chat_id]
        wanted = (not state.elder) if on is None else on
        if wanted and state.elder and on is not None:
            text = texts.ELDER_ALREADY
        else:
            state.elder = wanted
            state.voice = wanted and self.service.can_speak
            text = texts.elder_on(self.service.can_speak) if wanted else texts.ELDER_OFF
        said = "\n".join(t for t in (text, tip) if t)
        await self.delivery.say(chat_id, said, self.keyboard(chat_id), spoke=spoke)

    async def voice(self, chat_id: int) -> None:
        """/voice: spoken replies on or off (only where speech can be synthesised)."""
        state = self.chats[chat_id]
        if not self.service.can_speak:
            state.voice = False
            await self.delivery.say(chat_id, texts.NO_SPEECH)
            return
        state.voice = not state.voice
        await self.delivery.say(chat_id, texts.VOICE_ON if state.voice else texts.VOICE_OFF)

    async def interface(self, chat_id: int, kind: str, *, spoke: bool = False) -> None:
        """The assistant's answer to a question about itself, done here: bigger text or reading
        aloud (``large``/``slow``) is 长辈模式; ``voice`` says how to send a voice note, or that
        this bot can't hear them, with the community's phone."""
        if kind == "voice":
            if self.service.can_hear:
                await self.delivery.say(chat_id, texts.VOICE_INPUT_HOW, spoke=spoke)
            else:
                text = texts.VOICE_INPUT_NONE.format(phone=self.settings.community_phone)
                await self.delivery.say(chat_id, text, spoke=spoke)
            return
        await self.elder(chat_id, True, spoke=spoke, tip=texts.FONT_TIP if kind == "large" else "")
