"""`make eval`: how well `!rights` answers parents' questions it has never seen.

    python -m bench.rights              # the test split: confusion summary, then one key=value line
    python -m bench.rights --errors     # also list every question answered wrongly or refused
    python -m bench.rights --calibrate  # choose the thresholds by cross-validation over the examples
                                        # and write cogs/content/matcher.toml

Two sets of questions, written by different people, never mixed:
- the **examples** (cogs/content/examples.toml, and cogs/content/parent_questions.txt) are what
  the matcher learns from, and the only questions calibration looks at (5-fold
  cross-validation: each is scored by a matcher built without it). The parent questions were
  written blind, as parents type, so their held-out scores choose the threshold;
- the **test split** (bench/rights_test.txt) is what this command measures. Nothing is tuned on it:
  a test rejects a test question that is a near-copy of an example.

A question is answered **right** when the bot's topic is one of its labels, or it refuses a
question labelled `none`; **confident_wrong** when it answers with another topic; **refused**
when it declines a question that had a topic. The last line is
`questions=N accuracy=X confident_wrong=Y refused=Z build_ms=B query_p99_ms=Q`; build time and
memory are measured in a fresh interpreter (imports included), as the bot pays them.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cogs.content.model import CONTENT_DIR, MATCHER_FILE, OFF_TOPIC, Content, MatcherSettings, load_content
from cogs.rights.match import Match, Signals, TopicMatcher, TopicText, decide

TEST_FILE = Path(__file__).with_name("rights_test.txt")
FOLDS = 5
# The share of confident wrong answers the issue allows on the test split.
MAX_CONFIDENT_WRONG = 0.02
# Calibration holds held-out parent questions to half of that, a margin for questions unlike
# any seen. (The examples were written to cover every boundary case, so they are much harder
# than what parents ask: a threshold chosen on them refused one real question in seven.)
MAX_CALIBRATION_WRONG = 0.01


@dataclass(frozen=True)
class Question:
    labels: frozenset[str]
    text: str
    line: int


def load_questions(path: Path = TEST_FILE) -> list[Question]:
    """`labels<TAB>question` per line; labels joined by `|`; `#` starts a comment line."""
    out = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        labels, sep, text = raw.partition("\t")
        if not sep or not text.strip():
            raise ValueError(f"{path.name}:{n}: expected labels<TAB>question")
        out.append(Question(frozenset(labels.strip().split("|")), text.strip(), n))
    return out


def topic_texts(content: Content, *, examples: bool = True, leave_out: Iterable[str] = ()) -> list[TopicText]:
    skip = set(leave_out)
    return [
        TopicText(
            t.id,
            (t.title, *t.keywords),
            tuple(q for q in content.examples.get(t.id, ()) if q not in skip) if examples else (),
            tuple(t.related),
        )
        for t in content.topics
    ]


def build_matcher(content: Content, settings: MatcherSettings | None = None, *, examples: bool = True) -> TopicMatcher:
    off = content.off_topic if examples else ()
    matcher = TopicMatcher(topic_texts(content, examples=examples), off, settings or content.matcher)
    matcher.build()
    return matcher


# -- scoring a set of questions -----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    question: Question
    answer: str  # a topic id, or OFF_TOPIC for a refusal
    ranked: tuple[Match, ...]

    @property
    def verdict(self) -> str:
        if self.answer in self.question.labels:
            return "right"
        return "refused" if self.answer == OFF_TOPIC else "wrong"


def run(matcher: TopicMatcher, questions: Sequence[Question]) -> list[Outcome]:
    out = []
    for q in questions:
        r = matcher.match(q.text)
        out.append(Outcome(q, r.best.key if r.best else OFF_TOPIC, r.ranked))
    return out


def rates(outcomes: Sequence[Outcome]) -> tuple[float, float, float]:
    n = len(outcomes) or 1
    c = Counter(o.verdict for o in outcomes)
    return c["right"] / n, c["wrong"] / n, c["refused"] / n


def confusion_summary(outcomes: Sequence[Outcome], topic_ids: Sequence[str]) -> list[str]:
    """Per label: questions, right, wrong, refused, and where the wrong answers went."""
    lines = [f"{'label':30} {'n':>3} {'right':>5} {'wrong':>5} {'refused':>7}  wrong answers went to"]
    for label in [*topic_ids, OFF_TOPIC]:
        mine = [o for o in outcomes if label in o.question.labels]
        if not mine:
            continue
        c = Counter(o.verdict for o in mine)
        went = Counter(o.answer for o in mine if o.verdict == "wrong")
        where = ", ".join(f"{k} x{v}" for k, v in went.most_common(3))
        lines.append(f"{label:30} {len(mine):3} {c['right']:5} {c['wrong']:5} {c['refused']:7}  {where}")
    return lines


# -- calibration: cross-validation over the examples only ---------------------------------


@dataclass(frozen=True)
class HeldOut:
    labels: frozenset[str]
    ranked: tuple[Match, ...]
    signals: Signals | None
    parent: bool  # a question from parent_questions.txt (written blind, as parents type)


def folds(content: Content, k: int = FOLDS) -> list[list[tuple[frozenset[str], str, bool]]]:
    """(labels, question, parent) triples in k folds, each label's examples and the parent
    questions each spread evenly (deterministic)."""
    out: list[list[tuple[frozenset[str], str, bool]]] = [[] for _ in range(k)]
    parent = {text for _, text in content.parent_questions}
    pools = {**content.examples, OFF_TOPIC: content.off_topic}
    i = 0
    for label in sorted(pools):
        for text in pools[label]:
            if text not in parent:
                out[i % k].append((frozenset({label}), text, False))
                i += 1
    for j, (labels, text) in enumerate(content.parent_questions):
        out[j % k].append((labels, text, True))
    return out


def cross_validate(content: Content, k: int = FOLDS) -> tuple[list[HeldOut], dict[str, frozenset[str]]]:
    """Score every example and parent question with a matcher built without its fold."""
    held: list[HeldOut] = []
    related: dict[str, frozenset[str]] = {}
    for fold in folds(content, k):
        out = {text for _, text, _ in fold}
        index = TopicMatcher(
            topic_texts(content, leave_out=out), [q for q in content.off_topic if q not in out], content.matcher
        ).build()
        related = index.related
        for labels, text, parent in fold:
            ranked, signals = index.score(text)
            held.append(HeldOut(labels, tuple(ranked), signals, parent))
    return held, related


def replay(
    held: Sequence[HeldOut], settings: MatcherSettings, related: dict[str, frozenset[str]]
) -> tuple[float, float]:
    right = wrong = 0
    for h in held:
        r = decide(h.ranked, h.signals, settings, related)
        answer = r.best.key if r.best else OFF_TOPIC
        if answer in h.labels:
            right += 1
        elif answer != OFF_TOPIC:
            wrong += 1
    n = len(held) or 1
    return right / n, wrong / n


def fit_logistic(rows: Sequence[tuple[Sequence[float], bool]], l2: float = 0.01, steps: int = 50) -> list[float]:
    """Logistic regression by Newton's method (a few inputs, a few thousand rows: exact and quick)."""
    import numpy as np

    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x.T * (p * (1 - p))) @ x + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    return [round(float(c), 4) for c in w]


def suggestion_floor(held: Sequence[HeldOut], settings: MatcherSettings, related: dict[str, frozenset[str]]) -> float:
    """The lowest score worth suggesting in a refusal: suggestions that contain the right topic
    score +1, suggestions that do not (or for an out-of-scope question) -1."""
    refused = []
    for h in held:
        r = decide(h.ranked, h.signals, settings, related)
        if r.best is None and not r.off_topic:
            refused.append((h.labels, r.ranked[:2]))
    best = (-math.inf, 0.0)
    for floor in [round(0.25 * i, 2) for i in range(0, 25)]:
        total = 0
        for labels, top2 in refused:
            shown = [m.key for m in top2 if m.score >= floor]
            if shown:
                total += 1 if labels & set(shown) else -1
        best = max(best, (total, floor))
    return best[1]


@dataclass(frozen=True)
class Calibration:
    settings: MatcherSettings
    judged_on: str  # which held-out questions chose the threshold
    accuracy: float
    confident_wrong: float
    limit: float


def calibrate(content: Content) -> Calibration:
    """Fit the confidence model on every held-out question (examples and parent questions),
    then take the threshold with the best held-out accuracy on the parent questions whose
    confident-wrong share stays within MAX_CALIBRATION_WRONG. Without parent questions (a
    forum's own content folder), the examples choose it, within MAX_CONFIDENT_WRONG."""
    held, related = cross_validate(content)
    rows = [(h.signals.vector(), h.signals.top in h.labels) for h in held if h.signals and h.signals.top != OFF_TOPIC]
    coefficients = fit_logistic(rows)
    judge = [h for h in held if h.parent]
    judged_on, limit = "parent questions", MAX_CALIBRATION_WRONG
    if not judge:
        judge, judged_on, limit = held, "examples", MAX_CONFIDENT_WRONG
    best: tuple[float, float, MatcherSettings] | None = None
    for step in range(30, 100):
        s = content.matcher.model_copy(update={"coefficients": coefficients, "threshold": step / 100})
        acc, wrong = replay(judge, s, related)
        if wrong <= limit and (best is None or acc > best[0]):
            best = (acc, wrong, s)
    if best is None:
        raise SystemExit("calibration: no threshold keeps confident-wrong answers within the limit")
    chosen = best[2].model_copy(update={"suggest_floor": suggestion_floor(held, best[2], related)})
    return Calibration(chosen, judged_on, best[0], best[1], limit)


def write_settings(c: Calibration, path: Path) -> None:
    lines = [
        "# The !rights matcher's confidence model (cogs/rights/match/). Do not edit by hand: run",
        "# `python -m bench.rights --calibrate` after changing examples.toml, parent_questions.txt",
        "# or the matcher.",
        f"# Fitted by {FOLDS}-fold cross-validation; threshold chosen on the held-out {c.judged_on}:",
        f"# accuracy {c.accuracy:.3f}, confident-wrong {c.confident_wrong:.3f} (limit {c.limit}).",
    ]
    for key, value in c.settings.model_dump().items():
        lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- cost ------------------------------------------------------------------------------------

_BUILD_PROBE = """
import json, time
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM"))
from cogs.content.model import load_content
from cogs.rights import RightsCog
from bench.rights import build_matcher
content = load_content()
m1 = rss_mb()
t1 = time.perf_counter()
build_matcher(content)
t2 = time.perf_counter()
print(json.dumps({"build_ms": (t2 - t1) * 1000, "build_mb": rss_mb() - m1, "peak_mb": peak_mb() - m1}))
"""


@dataclass(frozen=True)
class BuildCost:
    ms: float  # median of the runs
    kept_mb: float  # resident memory the bot is bigger by afterwards (the most of the runs)
    peak_mb: float  # how far the resident memory rose during the build (the most of the runs)


def measure_build(runs: int = 3) -> BuildCost:
    """What building the matcher costs, each run in a fresh interpreter with the content
    already loaded as the bot has it, so the imports the matcher needs (numpy, bm25s,
    PyStemmer) are included."""
    results = []
    root = Path(__file__).resolve().parent.parent
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _BUILD_PROBE], cwd=root, capture_output=True, text=True, check=True
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    return BuildCost(
        statistics.median(r["build_ms"] for r in results),
        max(r["build_mb"] for r in results),
        max(r["peak_mb"] for r in results),
    )


def query_p99_ms(matcher: TopicMatcher, questions: Sequence[Question], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        for q in questions:
            t = time.perf_counter()
            matcher.match(q.text)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[min(len(times) - 1, int(len(times) * 0.99))]


# -- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.rights", description=__doc__.split("\n")[0])
    ap.add_argument("--calibrate", action="store_true", help="choose thresholds by cross-validation; write them")
    ap.add_argument("--errors", action="store_true", help="list every question answered wrongly or refused")
    ap.add_argument("--test-file", type=Path, default=TEST_FILE)
    args = ap.parse_args(argv)

    content = load_content()
    if args.calibrate:
        c = calibrate(content)
        write_settings(c, CONTENT_DIR / MATCHER_FILE)
        print(f"held-out {c.judged_on}: accuracy={c.accuracy:.3f} confident_wrong={c.confident_wrong:.3f}")
        print(
            f"wrote {CONTENT_DIR / MATCHER_FILE}: " + " ".join(f"{k}={v}" for k, v in c.settings.model_dump().items())
        )
        return 0

    questions = load_questions(args.test_file)
    topic_ids = [t.id for t in content.topics]
    matcher = build_matcher(content)
    outcomes = run(matcher, questions)
    baseline = run(build_matcher(content, examples=False), questions)
    if args.errors:
        for o in outcomes:
            if o.verdict != "right":
                top = ", ".join(f"{m.key} {m.score:.2f}" for m in o.ranked[:2])
                print(
                    f"{o.verdict:8} {'|'.join(sorted(o.question.labels))} -> {o.answer} [{top}] {o.question.text[:90]}"
                )
        print()
    print("\n".join(confusion_summary(outcomes, topic_ids)))
    b_acc, b_wrong, b_ref = rates(baseline)
    print(
        "\nbaseline (topic names only, no examples): "
        f"accuracy={b_acc:.3f} confident_wrong={b_wrong:.3f} refused={b_ref:.3f}"
    )
    cost = measure_build()
    p99 = query_p99_ms(matcher, questions)
    acc, wrong, refused = rates(outcomes)
    print(
        f"matcher build: {cost.ms:.0f} ms, {cost.kept_mb:.1f} MB kept, {cost.peak_mb:.1f} MB at the peak "
        "(fresh interpreter, imports included)"
    )
    print(
        f"questions={len(questions)} accuracy={acc:.3f} confident_wrong={wrong:.3f} refused={refused:.3f} "
        f"build_ms={cost.ms:.0f} query_p99_ms={p99:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
