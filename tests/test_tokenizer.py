"""The mixed Chinese/English tokenizer drops the whitespace tokens JiebaTokenizer keeps (rasa#7910)."""

from __future__ import annotations

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.tokenizer import MixedJiebaTokenizer


def make(cls, tmp_path):
    storage = LocalModelStorage(tmp_path)
    config = {**cls.get_default_config(), "dictionary_path": "bot/jieba_dict"}
    return cls.create(config, storage, Resource("tok"), ExecutionContext(GraphSchema({}), "test"))


def tokens(tokenizer, text: str) -> list:
    message = Message.build(text=text)
    return tokenizer.tokenize(message, "text")


def test_whitespace_tokens_are_dropped_and_offsets_kept(tmp_path) -> None:
    text = "我们的专线又down了 SH-2M-0000012-1 please check"
    stock = tokens(make(JiebaTokenizer, tmp_path / "a"), text)
    ours = tokens(make(MixedJiebaTokenizer, tmp_path / "b"), text)
    assert any(not t.text.strip() for t in stock)  # the upstream bug this component exists for
    assert all(t.text.strip() for t in ours)
    assert [t.text for t in ours][:6] == ["我们", "的", "专线", "又", "down", "了"]
    for token in ours:
        assert text[token.start:token.end] == token.text


def test_user_dictionary_keeps_telecom_terms_whole(tmp_path) -> None:
    words = [t.text for t in tokens(make(MixedJiebaTokenizer, tmp_path), "数字电路故障，客户经理是谁，工单号多少")]
    for term in ("数字电路", "故障", "客户经理", "工单"):
        assert term in words


def test_courtesy_around_a_request_is_not_tokenized(tmp_path) -> None:
    words = [t.text for t in tokens(make(MixedJiebaTokenizer, tmp_path), "你好，帮我查一下我们单位上个月的费用，谢谢")]
    assert words == ["我们", "单位", "上个月", "的", "费用"]


def test_a_change_to_the_courtesy_rules_or_the_dictionary_retrains(tmp_path, monkeypatch) -> None:
    import inspect

    from carecore import courtesy

    config = {**MixedJiebaTokenizer.get_default_config(), "dictionary_path": str(tmp_path)}
    (tmp_path / "telecom.txt").write_text("专线 100 n\n", encoding="utf-8")
    before = MixedJiebaTokenizer.fingerprint_addon(config)
    assert MixedJiebaTokenizer.fingerprint_addon(config) == before  # stable: the cache still serves
    (tmp_path / "telecom.txt").write_text("专线 100 n\n数字电路 100 n\n", encoding="utf-8")
    with_word = MixedJiebaTokenizer.fingerprint_addon(config)
    source = inspect.getsource(courtesy)
    monkeypatch.setattr(inspect, "getsource", lambda obj: source + "\n# a new rule" if obj is courtesy else "")
    assert len({before, with_word, MixedJiebaTokenizer.fingerprint_addon(config)}) == 3
