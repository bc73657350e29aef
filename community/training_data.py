"""The training data that staff review produces (:class:`TrainingData`): examples for an
existing intent, or a new FAQ intent with the answer staff wrote. Everything goes into files of
its own (``nlu_data/nlu/reviewed.yml``, ``nlu_data/rules/reviewed.yml``,
``domain/reviewed.yml``); the hand-written files are never written, and nothing from the
held-out split (:data:`HOLDOUT_DIR`) is ever trained on.

Nothing here imports Rasa, so the staff console uses it directly; the files are checked with
Rasa's own loader in ``tests/e2e/test_training_data.py``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import tempfile
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml
from pypinyin import lazy_pinyin

from community import yaml_data
from community.privacy import mask_text
from community.textnorm import InputProblem, clean_text, input_problem

MAX_EXAMPLE_CHARS = 200
MAX_LABEL_CHARS = 40
MAX_ANSWER_CHARS = 1000
FAQ_NAME = re.compile(r"^faq_[a-z0-9]+(_[a-z0-9]+)*$")
MAX_FAQ_NAME = 48
_MARKUP = re.compile(r"<[^<>]*>|&(#\d+|#x[0-9a-f]+|[a-z]{2,8});", re.I)
# Rasa's own syntax inside an example: [text](entity), [text]{"entity": ...}, /intent payloads.
_RASA_SYNTAX = re.compile(r"\[[^\]]*\]\s*[({]|^\s*/")
_ANNOTATION = re.compile(r"\[([^\]]*)\]\s*(\([^)]*\)|\{[^}]*\})")

NLU_FILE = Path("nlu_data/nlu/reviewed.yml")
RULES_FILE = Path("nlu_data/rules/reviewed.yml")
DOMAIN_FILE = Path("domain/reviewed.yml")
HOLDOUT_DIR = Path("nlu_data_holdout/intents")  # relative to the training root
HEADER = (
    "# Written by the staff console (community/training_data.py) from reviewed resident questions.\n"
    "# Do not edit by hand while the console is running; hand-written data lives in the other files.\n"
)

_PROBLEM_MESSAGES = {
    InputProblem.EMPTY: ("is empty", "内容为空"),
    InputProblem.TOO_LONG: ("is too long", "太长"),
    InputProblem.MARKUP: ("contains markup", "含有网页代码"),
    InputProblem.EMOJI_ONLY: ("has no words", "只有表情符号"),
    InputProblem.NO_CHINESE: ("has no Chinese", "没有中文"),
}


def faq_identifier(label: str, taken: Iterable[str] = ()) -> str:
    """The identifier of a new FAQ, made from its Chinese name with pypinyin (never typed by
    staff): 快递柜 → ``faq_kuai_di_gui``; ``_2``, ``_3``… when it is already taken."""
    syllables = lazy_pinyin(clean_text(label or ""))
    words = [w for s in syllables for w in re.split(r"[^a-z0-9]+", s.lower())]
    base = "faq_" + "_".join(w for w in words if w)
    base = base[:MAX_FAQ_NAME].rstrip("_")
    if base == "faq":
        base = "faq_wen_ti"  # 问题: a name of only symbols
    taken = set(taken)
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f"_{n}"
        name = base[: MAX_FAQ_NAME - len(suffix)].rstrip("_") + suffix
    return name


def _refuse(english: str, chinese: str) -> ValueError:
    return ValueError(f"{english} ({chinese})")


def _plain(example: str) -> str:
    """An example's text without Rasa entity annotations."""
    return _ANNOTATION.sub(r"\1", example).strip()


def _match_key(text: str) -> str:
    """Texts with equal keys are the same training example (and the same held-out one)."""
    norm = clean_text(text).lower()
    return "".join(c for c in norm if unicodedata.category(c)[0] in ("L", "N"))


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        return {}
    data = yaml_data.load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _intent_names(entries: Iterable[Any]) -> list[str]:
    names = []
    for entry in entries or []:
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, dict) and len(entry) == 1:
            names.append(next(iter(entry)))
    return names


def _examples_of(block: dict) -> list[str]:
    """The examples of one ``- intent:`` block, in either of Rasa's two YAML forms."""
    raw = block.get("examples")
    if isinstance(raw, str):
        lines = [line.strip() for line in raw.splitlines()]
        return [_plain(line[1:].strip()) for line in lines if line.startswith("-")]
    if isinstance(raw, list):
        texts = [item.get("text") if isinstance(item, dict) else item for item in raw]
        return [_plain(str(t)) for t in texts if t]
    return []


def _nlu_examples(paths: Iterable[Path]) -> dict[str, str]:
    """match key → intent, over every NLU file under ``paths``."""
    found: dict[str, str] = {}
    for base in paths:
        files = sorted(base.rglob("*.y*ml")) if base.is_dir() else [base]
        for path in files:
            for block in _read_yaml(path).get("nlu") or []:
                if isinstance(block, dict) and block.get("intent"):
                    for text in _examples_of(block):
                        found.setdefault(_match_key(text), str(block["intent"]))
    return found


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and a rename, so
    a reader (Rasa training, the other console worker) sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name does not end in .yml, so Rasa never reads a half-written file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _dump(data: dict) -> str:
    return HEADER + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


class TrainingData:
    """The project's training data under ``root``, and the reviewed additions to it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.nlu_file = self.root / NLU_FILE
        self.rules_file = self.root / RULES_FILE
        self.domain_file = self.root / DOMAIN_FILE
        self.holdout_dir = self.root / HOLDOUT_DIR

    # -- reading ---------------------------------------------------------------------------

    def intents(self) -> list[str]:
        """Every intent in the domain (all files of ``domain/``, the reviewed one included)."""
        names: list[str] = []
        domain = self.root / "domain"
        files = sorted(domain.glob("*.y*ml")) if domain.is_dir() else [self.root / "domain.yml"]
        ordered = [p for p in files if p.name == "intents.yml"] + [
            p for p in files if p.name != "intents.yml"
        ]
        for path in ordered:
            for name in _intent_names(_read_yaml(path).get("intents")):
                if name not in names:
                    names.append(name)
        return names

    def faq_intents(self) -> dict[str, dict]:
        """FAQ intents created by staff: name → {"label", "answer", "created_by", "created_at"}."""
        domain = _read_yaml(self.domain_file)
        responses = domain.get("responses") or {}
        meta = {
            b["intent"]: b.get("metadata") or {}
            for b in _read_yaml(self.nlu_file).get("nlu") or []
            if isinstance(b, dict) and b.get("intent")
        }
        faqs = {}
        for name in _intent_names(domain.get("intents")):
            variations = responses.get(f"utter_{name}") or [{}]
            info = meta.get(name, {})
            faqs[name] = {
                "label": info.get("label", name),
                "answer": variations[0].get("text", ""),
                "created_by": info.get("created_by", ""),
                "created_at": info.get("created_at", ""),
            }
        return faqs

    def label(self, intent: str) -> str:
        """How staff see an intent: the label of a staff-made FAQ, else the project's label."""
        from community.intents import label

        faq = self.faq_intents().get(intent)
        return faq["label"] if faq else label(intent)

    def reviewed_examples(self) -> dict[str, list[str]]:
        """intent → examples added by staff."""
        found: dict[str, list[str]] = {}
        for block in _read_yaml(self.nlu_file).get("nlu") or []:
            if isinstance(block, dict) and block.get("intent"):
                found.setdefault(str(block["intent"]), []).extend(_examples_of(block))
        return found

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time, across threads and processes (an flock on nlu_data/)."""
        directory = self.root / "nlu_data"
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def add_examples(self, intent: str, texts: list[str], reviewer: str) -> Path:
        """Add ``texts`` as examples of ``intent`` to ``nlu_data/nlu/reviewed.yml``.

        Texts already in the training data for this intent are skipped. Raises ``ValueError``
        (nothing written) for an unknown intent, a text that is empty, too long, markup or not
        Chinese, one with a phone or 身份证 number, one that belongs to the held-out split, or one
        already taught as another intent.
        """
        with self._locked():
            if intent not in self.intents():
                raise _refuse(f"Unknown intent {intent!r}", f"没有这个意图：{intent}")
            reviewer = self._reviewer(reviewer)
            new = self._checked(intent, texts)
            if new:
                self._write_examples(intent, new, reviewer)
        return self.nlu_file

    def create_intent(
        self, name: str, label: str, answer: str, examples: list[str], reviewer: str
    ) -> None:
        """A new FAQ intent: ``name`` (``faq_<ascii>``), whose answer is staff-written ``answer``.

        Writes the intent and its ``utter_<name>`` response to ``domain/reviewed.yml``, the rule
        intent → response to ``nlu_data/rules/reviewed.yml`` and the examples (at least one) to
        ``nlu_data/nlu/reviewed.yml``.
        """
        if not isinstance(name, str) or not FAQ_NAME.match(name) or len(name) > MAX_FAQ_NAME:
            raise _refuse(
                f"Intent name {name!r} must look like faq_parking_fee: 'faq_' then lower-case "
                f"letters, digits and underscores, at most {MAX_FAQ_NAME} characters",
                "新意图名须以 faq_ 开头，只用小写英文字母、数字和下划线，如 faq_parking_fee",
            )
        label = clean_text(label or "")
        if not label or len(label) > MAX_LABEL_CHARS or _MARKUP.search(label):
            raise _refuse(
                f"The label must be 1 to {MAX_LABEL_CHARS} characters of plain text",
                f"名称须为 1 到 {MAX_LABEL_CHARS} 个字的纯文本",
            )
        answer = (answer or "").strip()
        if not clean_text(answer):
            raise _refuse("The answer is empty", "答复内容为空")
        if len(answer) > MAX_ANSWER_CHARS:
            raise _refuse(
                f"The answer is longer than {MAX_ANSWER_CHARS} characters",
                f"答复超过 {MAX_ANSWER_CHARS} 字",
            )
        if _MARKUP.search(answer):
            raise _refuse("The answer contains markup", "答复含有网页代码")
        if not examples:
            raise _refuse("A new question needs at least one example", "新问题至少要有一个例句")
        reviewer = self._reviewer(reviewer)
        with self._locked():
            if name in self.intents():
                raise _refuse(f"Intent {name!r} already exists", f"意图 {name} 已经存在")
            domain = _read_yaml(self.domain_file)
            existing_labels = {f["label"] for f in self.faq_intents().values()}
            if label in existing_labels:
                raise _refuse(f"There is already an FAQ called {label!r}", f"已经有叫「{label}」的问题")
            cleaned = self._checked(name, examples)

            domain.setdefault("version", "3.1")
            domain["intents"] = _intent_names(domain.get("intents")) + [name]
            responses = domain.get("responses") or {}
            responses[f"utter_{name}"] = [{"text": answer}]
            domain["responses"] = responses
            _atomic_write(self.domain_file, _dump({"version": "3.1", "intents": domain["intents"],
                                                   "responses": responses}))

            now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            self._write_examples(
                name, cleaned, reviewer, metadata={"label": label, "created_by": reviewer, "created_at": now}
            )

            rules = _read_yaml(self.rules_file).get("rules") or []
            rules.append({"rule": f"FAQ {name}", "steps": [{"intent": name}, {"action": f"utter_{name}"}]})
            _atomic_write(self.rules_file, _dump({"version": "3.1", "rules": rules}))

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _reviewer(reviewer: str) -> str:
        reviewer = clean_text(reviewer or "")
        if not reviewer or len(reviewer) > 64 or _MARKUP.search(reviewer):
            raise _refuse("The reviewer's name is missing or invalid", "缺少审核人姓名")
        return reviewer

    def _holdout_keys(self) -> set[str]:
        return set(_nlu_examples([self.holdout_dir])) if self.holdout_dir.exists() else set()

    def _checked(self, intent: str, texts: list[str]) -> list[str]:
        """Cleaned texts that are new examples of ``intent``; raises ValueError on a bad one."""
        if isinstance(texts, str) or not texts:
            raise _refuse("No examples given", "没有例句")
        holdout = self._holdout_keys()
        trained = _nlu_examples([self.root / "nlu_data"])
        result: list[str] = []
        seen: set[str] = set()
        for raw in texts:
            raw = raw if isinstance(raw, str) else ""
            shown = raw.strip()[:30]
            if _MARKUP.search(raw) or _RASA_SYNTAX.search(raw):
                raise _refuse(f"Example {shown!r} contains markup", f"例句「{shown}」含有网页代码或特殊符号")
            problem = input_problem(raw, max_chars=MAX_EXAMPLE_CHARS)
            if problem is InputProblem.TOO_LONG:
                raise _refuse(
                    f"Example {shown!r}… is longer than {MAX_EXAMPLE_CHARS} characters",
                    f"例句「{shown}…」超过 {MAX_EXAMPLE_CHARS} 字，请缩短",
                )
            if problem is not None:
                english, chinese = _PROBLEM_MESSAGES[problem]
                raise _refuse(f"Example {shown!r} {english}", f"例句「{shown}」{chinese}")
            text = clean_text(raw)
            if mask_text(text) != text:  # training data is shared and ends up in every model
                raise _refuse(
                    f"Example {mask_text(text)!r} contains a phone or ID number; remove it first",
                    f"例句「{mask_text(text)}」含有电话号码或身份证号，请先删掉",
                )
            key = _match_key(text)
            if key in holdout:
                raise _refuse(
                    f"Example {text!r} is in the held-out test set (nlu_data_holdout/intents), which is "
                    "never trained on",
                    f"例句「{text}」在留出测试集中，不能用于训练",
                )
            other = trained.get(key)
            if other is not None and other != intent:
                raise _refuse(
                    f"Example {text!r} is already an example of intent {other!r}",
                    f"例句「{text}」已经是意图 {other} 的例句",
                )
            if other == intent or key in seen:
                continue  # already taught: nothing to add
            seen.add(key)
            result.append(text)
        return result

    def _write_examples(
        self, intent: str, texts: list[str], reviewer: str, metadata: dict | None = None
    ) -> None:
        """Append checked ``texts`` to the intent's block of the reviewed NLU file (under the lock)."""
        data = _read_yaml(self.nlu_file)
        blocks = [b for b in data.get("nlu") or [] if isinstance(b, dict)]
        block = next((b for b in blocks if b.get("intent") == intent), None)
        if block is None:
            block = {"intent": intent}
            blocks.append(block)
        examples = block.pop("examples", None) or []
        if isinstance(examples, str):  # edited by hand into the block form: keep its examples
            examples = [{"text": t} for t in _examples_of({"examples": examples})]
        if metadata:
            block["metadata"] = metadata
        today = dt.date.today().isoformat()
        examples.extend({"text": t, "metadata": {"reviewer": reviewer, "added": today}} for t in texts)
        block["examples"] = examples  # after "intent" and "metadata", as Rasa's docs write it
        _atomic_write(self.nlu_file, _dump({"version": "3.1", "nlu": blocks}))
