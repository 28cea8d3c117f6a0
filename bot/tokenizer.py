"""Jieba tokenizer for mixed Chinese/English messages ("我们的专线又down了").

Rasa 3.6's ``JiebaTokenizer`` keeps jieba's whitespace as tokens (RasaHQ/rasa#7910), which dilutes the
features and shifts entity offsets; this subclass drops them.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class MixedJiebaTokenizer(JiebaTokenizer):
    """``JiebaTokenizer`` without whitespace tokens."""

    @staticmethod
    def supported_languages() -> List[str]:
        return ["zh", "en"]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return JiebaTokenizer.get_default_config()

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        import jieba

        text = message.get(attribute)
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(text) if word.strip()]
        return self._apply_token_pattern(tokens)
