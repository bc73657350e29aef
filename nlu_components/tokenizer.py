"""Jieba tokenizer that first normalises the text (traditional → simplified, full-width →
half-width, markup → spaces) character by character, so entity offsets stay valid."""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from community.textnorm import normalize_aligned


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer on normalised text, without whitespace tokens."""

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        import jieba

        text = normalize_aligned(message.get(attribute) or "").lower()
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(text) if word.strip()]
        if not tokens:  # Rasa expects at least one token per message
            tokens = [Token(text or " ", 0)]
        return self._apply_token_pattern(tokens)
