#!/usr/bin/env python3
"""Generates crates/querent-offline/data/wordnet.tsv from Princeton WordNet 3.0 as Debian's
`wordnet-base` package installs it (/usr/share/wordnet).

One line per word people commonly use (a noun or adjective with at least one sense tagged in
WordNet's SemCor counts), and per rarer noun with one sense whose synonyms are common words
("automaker" -> "car maker"): `word<TAB>pos<TAB>alt1|alt2|...`, the alternatives in WordNet's
sense order. For a noun, the other words of its most frequent senses' synsets (up to two
senses); for an adjective, the nouns of the synsets it pertains to ("american" -> "america",
"united states", "usa"), which is how a question's adjective finds a stored value or a
column. Multi-word lemmas keep their spaces. The output is committed; re-run with
`python3 scripts/gen-wordnet-lexicon.py > crates/querent-offline/data/wordnet.tsv`.

With `--verbs` it writes crates/querent-offline/data/wordnet-verbs.txt instead: the verbs
with a tagged sense (flagged ` n` when also a common noun), then their irregular forms as
`form lemma`; with `--adjectives`, data/wordnet-adjectives.txt: the common adjectives that
are not nouns; with `--words`, data/wordnet-words.txt: the common words of every part of
speech, which are never taken for misspellings; with `--derived`, data/wordnet-derived.tsv:
common nouns and verbs and the words derived from them ("acceleration" -> "accelerate")
that share their first four letters; with `--ancestors`, data/wordnet-ancestors.tsv:
common nouns' broader words ("dog" -> "animal"); with `--related`, data/wordnet-related.tsv: nouns'
specific hypernyms and hyponyms and verbs' synonyms ("guest" -> "visitor", "establish" ->
"found") (the translator treats an
unknown verb — "arriving", "bought" — as a relation word, less telling than an unknown noun).
The WordNet licence is in crates/querent-offline/data/WORDNET-LICENSE.
"""
import os
import sys

WN = os.environ.get("WORDNET_DIR", "/usr/share/wordnet")


def read_data(pos):
    """synset offset -> (lemmas, pointers)"""
    out = {}
    with open(f"{WN}/data.{pos}", encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):
                continue
            head = line.split(" | ")[0].split()
            off = head[0]
            w_cnt = int(head[3], 16)
            lemmas = []
            for i in range(w_cnt):
                lemma = head[4 + 2 * i].lower()
                if lemma.endswith(")"):  # adjective markers such as (a), (p), (ip)
                    lemma = lemma[: lemma.index("(")]
                lemmas.append(lemma.replace("_", " "))
            p = 4 + 2 * w_cnt
            p_cnt = int(head[p])
            ptrs = []
            for i in range(p_cnt):
                sym, target, tpos, srctgt = head[p + 1 + 4 * i : p + 5 + 4 * i]
                ptrs.append((sym, target, tpos, srctgt))
            out[off] = (lemmas, ptrs)
    return out


def read_index(pos):
    """lemma -> (offsets in sense order, tagged sense count)"""
    out = {}
    with open(f"{WN}/index.{pos}", encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):
                continue
            parts = line.split()
            lemma = parts[0].replace("_", " ")
            synset_cnt = int(parts[2])
            p_cnt = int(parts[3])
            tagged = int(parts[5 + p_cnt])
            offsets = parts[6 + p_cnt : 6 + p_cnt + synset_cnt]
            out[lemma] = (offsets, tagged)
    return out


def clean(words, self_word):
    seen = []
    for w in words:
        if w == self_word or w in seen or not all(c.isalnum() or c in " -." for c in w):
            continue
        seen.append(w)
    return seen


def main():
    nouns, adjs = read_data("noun"), read_data("adj")
    nidx, aidx = read_index("noun"), read_index("adj")
    lines = []
    def common(word):
        return nidx.get(word, ((), 0))[1] >= 1

    for lemma, (offsets, tagged) in sorted(nidx.items()):
        if " " in lemma:
            continue
        # Words rare in the tagged corpus ("automaker") only with one sense, and only for
        # the common words they stand for ("car maker").
        rare = tagged < 1
        if rare and (not lemma.isalpha() or len(offsets) > 1):
            continue
        alts = []
        for off in offsets[: max(1, min(tagged, 2))]:
            alts.extend(nouns[off][0])
        alts = clean(alts, lemma)
        if rare:
            alts = [a for a in alts if all(common(p) for p in a.split())]
        if alts:
            lines.append(f"{lemma}\tn\t{'|'.join(alts)}")
    for lemma, (offsets, tagged) in sorted(aidx.items()):
        if tagged < 1 or " " in lemma:
            continue
        alts = []
        for off in offsets[: min(tagged, 2)]:
            for sym, target, tpos, _ in adjs[off][1]:
                if sym == "\\" and tpos == "n":
                    alts.extend(nouns[target][0])
        alts = clean(alts, lemma)
        if alts:
            lines.append(f"{lemma}\ta\t{'|'.join(alts)}")
    sys.stdout.write("# Generated by scripts/gen-wordnet-lexicon.py from WordNet 3.0 (licence: WORDNET-LICENSE)\n")
    sys.stdout.write("\n".join(lines) + "\n")


def verbs():
    verbs = set()
    for lemma, (_offsets, tagged) in read_index("verb").items():
        if tagged >= 1 and " " not in lemma:
            verbs.add(lemma)
    nouns = {l for l, (_o, t) in read_index("noun").items() if t >= 1}
    forms = set()
    with open(f"{WN}/verb.exc", encoding="latin-1") as f:
        for line in f:
            form, lemma = line.split()[:2]
            if lemma in verbs and "_" not in form:
                forms.add(f"{form} {lemma}")
    sys.stdout.write("# Generated by scripts/gen-wordnet-lexicon.py from WordNet 3.0 (licence: WORDNET-LICENSE)\n")
    sys.stdout.write("# Verbs with a sense tagged in WordNet's SemCor counts (` n` after one that is a common noun too),\n")
    sys.stdout.write("# then irregular forms as `form lemma`.\n")
    sys.stdout.write("\n".join(v + (" n" if v in nouns else "") for v in sorted(verbs)) + "\n")
    sys.stdout.write("\n".join(sorted(forms)) + "\n")


def adjectives():
    nouns = {l for l, (_o, t) in read_index("noun").items() if t >= 1}
    adjs = sorted(
        l for l, (_o, t) in read_index("adj").items() if t >= 1 and " " not in l and l not in nouns
    )
    sys.stdout.write("# Generated by scripts/gen-wordnet-lexicon.py from WordNet 3.0 (licence: WORDNET-LICENSE)\n")
    sys.stdout.write("# Adjectives with a sense tagged in WordNet's SemCor counts that are not common nouns.\n")
    sys.stdout.write("\n".join(adjs) + "\n")


def words():
    out = set()
    for pos in ("noun", "verb", "adj", "adv"):
        out |= {l for l, (_o, t) in read_index(pos).items() if t >= 1 and " " not in l}
    sys.stdout.write("# Generated by scripts/gen-wordnet-lexicon.py from WordNet 3.0 (licence: WORDNET-LICENSE)\n")
    sys.stdout.write("# Common English words (a sense tagged in SemCor): never taken for misspellings.\n")
    sys.stdout.write("\n".join(sorted(out)) + "\n")


def derived():
    """Words derived from one another (WordNet's lexical `+` pointers) that share their first
    four letters: "acceleration" <-> "accelerate", "attendance" <-> "attend"."""
    data = {"n": read_data("noun"), "v": read_data("verb")}
    out = {}
    for pos, name in (("n", "noun"), ("v", "verb")):
        for lemma, (offsets, tagged) in read_index(name).items():
            if tagged < 1 or " " in lemma:
                continue
            rel = []
            for off in offsets[: min(tagged, 2)]:
                lemmas, ptrs = data[pos][off]
                if lemma not in lemmas:
                    continue
                me = lemmas.index(lemma) + 1
                for sym, target, tpos, srctgt in ptrs:
                    if sym != "+" or tpos not in data or int(srctgt[:2], 16) != me:
                        continue
                    other = data[tpos][target][0][int(srctgt[2:], 16) - 1]
                    if " " in other or other == lemma or other[:4] != lemma[:4]:
                        continue
                    if other not in rel:
                        rel.append(other)
            if rel:
                out.setdefault(lemma, [])
                out[lemma].extend(r for r in rel if r not in out[lemma])
    sys.stdout.write("# Generated by scripts/gen-wordnet-lexicon.py from WordNet 3.0 (licence: WORDNET-LICENSE)\n")
    sys.stdout.write("# Common nouns and verbs and the words derived from them that share their first four letters.\n")
    sys.stdout.write("\n".join(f"{w}\t{'|'.join(r)}" for w, r in sorted(out.items())) + "\n")


def related():
    """Nouns' nearest broader and narrower words, and verbs' synonyms, for words the schema
    does not know: "guest" -> "visitor" (its hypernym), "vessel" -> "boat", "ship" (its
    hyponyms), "establish" -> "found". Only specific relations: a hypernym with at most
    60 narrower words of its own (never "person" or "thing"), the hyponyms when there are
    at most 40 (names of individuals left out); hypernyms of a noun's first sense, hyponyms
    of its first two; a verb's
    first sense only; common words only; no verb's irregular form and no numeral, as a
    word or as an alternative."""
    nouns, verbs_ = read_data("noun"), read_data("verb")
    common = set()
    for pos in ("noun", "verb", "adj", "adv"):
        common |= {l for l, (_o, t) in read_index(pos).items() if t >= 1}
    with open(f"{WN}/verb.exc", encoding="latin-1") as f:
        verb_forms = {line.split()[0] for line in f}
    lines = []
    for lemma, (offsets, tagged) in sorted(read_index("noun").items()):
        # "found" is a form of "find" far more often than a noun; numerals are no nouns here.
        if tagged < 1 or " " in lemma or lemma in verb_forms or lemma.isdigit():
            continue
        up, down = [], []
        for sense, off in enumerate(offsets[: min(tagged, 2)]):
            _lemmas, ptrs = nouns[off]
            hypo = [t for s, t, p, _ in ptrs if s == "~" and p == "n"]
            for s, t, p, _ in ptrs:
                if s == "@" and p == "n" and sense == 0:
                    hcount = sum(1 for s2, _t, p2, _ in nouns[t][1] if s2 in ("~", "~i") and p2 == "n")
                    if hcount <= 60:
                        up.extend(nouns[t][0])
            if len(hypo) <= 40:
                for t in hypo:
                    down.extend(nouns[t][0])
        # Common words only (a sense tagged in SemCor), of at most two words, no verb's
        # irregular form ("found") and no numeral.
        alts = [
            a
            for a in clean(up + down, lemma)
            if a in common and a.count(" ") <= 1 and a not in verb_forms and not a.isdigit()
        ]
        if alts:
            lines.append(f"{lemma}\tn\t{'|'.join(alts)}")
    for lemma, (offsets, tagged) in sorted(read_index("verb").items()):
        if tagged < 1 or " " in lemma:
            continue
        alts = [a for a in clean(verbs_[offsets[0]][0], lemma) if a in common]
        if alts:
            lines.append(f"{lemma}\tv\t{'|'.join(alts)}")
    sys.stdout.write("# Generated by scripts/gen-wordnet-lexicon.py from WordNet 3.0 (licence: WORDNET-LICENSE)\n")
    sys.stdout.write("# Nouns' specific hypernyms and hyponyms, verbs' first-sense synonyms (`--related`).\n")
    sys.stdout.write("\n".join(lines) + "\n")


def ancestors():
    """Common nouns' broader words, for a question that names a table by a broader word
    ("animals" for a table of dogs, "vehicles" for cars): up to three steps above the
    noun's first sense, each of them below the six top levels of WordNet's tree (never
    "entity", "object", "organism", "person"), as one-word nouns (rare ones too: "canine")."""
    import functools

    nouns = read_data("noun")

    def hyper(o):
        return [t for s, t, p, _ in nouns[o][1] if s in ("@", "@i") and p == "n"]

    @functools.lru_cache(None)
    def depth(o):
        hs = hyper(o)
        return 0 if not hs else 1 + min(depth(h) for h in hs)

    # The lexicographer file of each synset: only concrete things (animals, artifacts,
    # food, places, objects, people, plants, substances) and broader words of the same
    # kind or WordNet's top words ("animal"): "genre" is no "form", "order" no "command".
    lexfile = {}
    with open(f"{WN}/data.noun", encoding="latin-1") as f:
        for line in f:
            if not line.startswith("  "):
                head = line.split()
                lexfile[head[0]] = head[1]
    concrete = {"05", "06", "13", "15", "17", "18", "20", "27"}

    lines = []
    for lemma, (offsets, tagged) in sorted(read_index("noun").items()):
        if tagged < 1 or " " in lemma or not lemma.isalpha():
            continue
        kind = lexfile[offsets[0]]
        if kind not in concrete:
            continue
        up, frontier = [], offsets[:1]
        for _hop in range(3):
            nxt = []
            for o in frontier:
                for h in hyper(o):
                    if depth(h) >= 6 and lexfile[h] in (kind, "03"):
                        up.extend(nouns[h][0])
                    nxt.append(h)
            frontier = nxt
        up = [a for a in clean(up, lemma) if " " not in a]
        if up:
            lines.append(f"{lemma}\tn\t{'|'.join(up)}")
    sys.stdout.write("# Generated by scripts/gen-wordnet-lexicon.py from WordNet 3.0 (licence: WORDNET-LICENSE)\n")
    sys.stdout.write("# Common nouns' broader words, up to three steps above their first sense (`--ancestors`).\n")
    sys.stdout.write("\n".join(lines) + "\n")


if "--ancestors" in sys.argv:
    ancestors()
elif "--related" in sys.argv:
    related()
elif "--words" in sys.argv:
    words()
elif "--derived" in sys.argv:
    derived()
elif "--verbs" in sys.argv:
    verbs()
elif "--adjectives" in sys.argv:
    adjectives()
else:
    main()
