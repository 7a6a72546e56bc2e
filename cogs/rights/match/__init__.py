"""Matching what a parent types to a rights topic, and knowing when not to answer.

A wrong answer delivered confidently is worse than no answer, so the matcher says how sure it
is, and the caller answers only confident matches. How it works:

1. **Names first.** A query that is exactly a topic's id, title or one of its keywords
   ("best endeavours", "section f") is that topic, for certain.
2. **Two models that learn from examples.** Every topic carries example questions written the
   way parents type (cogs/content/examples.toml), and off-topic examples (greetings, benefits,
   forum chat) form one more class, `none`. Two standard text classifiers score each class:
   - *retrieval*: every example is a document in a BM25 index (the maintained `bm25s`
     library); a class's score sums its best five examples' scores with falling weights, and
     each query word is weighted by how much it tells the classes apart (a word spread evenly
     over every topic, like "school", counts for little);
   - *complement naive Bayes* over words and word pairs, which learns from all of a class's
     examples at once (Rennie et al. 2003, the variant made for uneven text classes).
   Each model's scores are standardised across the classes and added, so neither dominates.
3. **Text normalisation** first: accents folded, "£6,000" and "6k" read as 6000, "section i"
   and "s.19" kept as one token each, a few spellings folded ("council" = "LA"), stop words
   dropped, words stemmed (Snowball, via PyStemmer), and a word the examples never use is
   taken as the closest word they do use when it is a likely typo (rapidfuzz).
4. **Confidence.** When `none` scores best, the question is out of scope. Otherwise a small
   logistic model turns five signals (the lead over the next class, the best score, the
   retrieval score, how much of the question's vocabulary the topic's examples use, and the
   question's length) into the chance that the answer is right; the bot answers only above a
   threshold. A close second topic that the content declares as related is offered as
   "Also see". The coefficients and thresholds are fitted by cross-validation over the
   examples (`python -m bench.rights --calibrate`), never on the test questions, and stored
   in cogs/content/matcher.toml.

The index is built the first time a question is matched, not at import, so commands that
never need it (`!help`) never load numpy or bm25s.

The modules, by reason to change: text.py (step 3's normalisation, up to stemming), typos.py
(step 3's typo correction), bm25.py (the retrieval index's fast build), index.py (step 2:
building the two models and scoring a question), answer.py (step 4: the results and the
confidence rule) and matcher.py (`TopicMatcher`: step 1, then the others in order).
"""

from cogs.rights.match.answer import Match, MatchResult, Signals, TopicText, confidence, decide
from cogs.rights.match.index import Index
from cogs.rights.match.matcher import TopicMatcher
from cogs.rights.match.text import name_key, normalise, words, words_many

__all__ = [
    "Index",
    "Match",
    "MatchResult",
    "Signals",
    "TopicMatcher",
    "TopicText",
    "confidence",
    "decide",
    "name_key",
    "normalise",
    "words",
    "words_many",
]
