"""Jieba tokenizer for mixed Chinese/English messages ("我们的专线又down了").

Rasa 3.6's ``JiebaTokenizer`` keeps jieba's whitespace as tokens (RasaHQ/rasa#7910), which dilutes the
features and shifts entity offsets; this subclass drops them. A message's own text also loses the
courtesy around its request (``carecore.courtesy``), so "你好，帮我查一下…，谢谢" means what its core means.
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from carecore import courtesy
from carecore.courtesy import core_span


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class MixedJiebaTokenizer(JiebaTokenizer):
    """``JiebaTokenizer`` without whitespace tokens, and without the courtesy around a message's request."""

    @staticmethod
    def supported_languages() -> List[str]:
        return ["zh", "en"]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return JiebaTokenizer.get_default_config()

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The courtesy rules and the user dictionary are inputs of tokenizing that Rasa's cache does not see:
        without them a change to either would train on the tokens of before."""
        digest = hashlib.sha256(inspect.getsource(courtesy).encode("utf-8"))
        folder = config.get("dictionary_path")
        for path in sorted(Path(folder).glob("*")) if folder and Path(folder).is_dir() else []:
            digest.update(path.name.encode("utf-8") + path.read_bytes())
        return digest.hexdigest()

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        import jieba

        text = message.get(attribute)
        first, last = core_span(text) if attribute == TEXT else (0, len(text))
        tokens = [Token(word, start) for word, start, end in jieba.tokenize(text)
                  if word.strip() and end > first and start < last]
        return self._apply_token_pattern(tokens)
