#!/usr/bin/python3
"""Builds the demo language model's training corpus from freely licensed
English text that Debian packages ship, and records where every part came
from in a manifest.

    tools/demo/build_corpus.py --out build/demo-corpus \
        [--manifest resources/demo/corpus_manifest.json] \
        [--cli build/app/cli/saescope-cli --tokenizer ../shared/data/gpt2-tokenizer]

Writes OUT/train.jsonl and OUT/valid.jsonl (one document per line,
{"text": ...}) and the manifest: each source package, its version, its
licence (from /usr/share/doc/PKG/copyright), the files read, and the sha256
of the text taken from it. With --cli the token counts (GPT-2 tokenizer) go
into the manifest too. Missing packages are installed with apt-get (root).

WordNet is the evaluation set (PS-Eval), so no WordNet text, and nothing
derived from it, may be trained on: GCIDE merges WordNet 1.5 into Webster's
1913 dictionary, so only paragraphs whose source tag is Webster's (or the
GCIDE editors', PJC) and not WordNet's are taken from it.

Needs only Python's standard library.
"""
import argparse
import glob
import gzip
import hashlib
import html.parser
import json
import os
import re
import subprocess
import sys
import unicodedata

# ---------------------------------------------------------------- sources
# Each source: the package, a licence summary, words that must appear in its
# copyright file (so a changed licence stops the build instead of being
# misreported), the files read and the extractor turning them into documents.
SOURCES = [
    {"name": "gcide", "package": "dict-gcide",
     "licence": "GPL-2+ (GCIDE; Webster's Revised Unabridged Dictionary 1913 is public domain)",
     "must_mention": ["GNU General Public License"],
     "files": ["/usr/share/dictd/gcide.dict.dz"], "extract": "gcide"},
    {"name": "foldoc", "package": "dict-foldoc",
     "licence": "GFDL-1.1+ (no invariant sections)",
     "must_mention": ["GNU Free Documentation", "no Invariant Sections"],
     "files": ["/usr/share/dictd/foldoc.dict.dz"], "extract": "foldoc"},
    {"name": "fortunes", "package": "fortunes",
     "licence": "BSD-3-clause (fortune-mod)",
     "must_mention": ["BSD copyright"],
     # Left out: ASCII art, ethnic and men-women jokes, and quotations of
     # copyrighted novels, shows, comics and songs (pratchett, startrek, zippy...).
     "files": ["/usr/share/games/fortunes/" + f for f in (
         "computers cookie debian definitions disclaimer drugs education food goedel "
         "humorists kids knghtbrd law linux linuxcookie love magic medicine miscellaneous "
         "news paradoxum people perl pets platitudes politics science sports tao wisdom "
         "work").split()], "extract": "fortunes"},
    {"name": "fortunes-min", "package": "fortunes-min",
     "licence": "BSD-3-clause (fortune-mod)",
     "must_mention": ["BSD copyright"],
     "files": ["/usr/share/games/fortunes/fortunes", "/usr/share/games/fortunes/literature",
               "/usr/share/games/fortunes/riddles"], "extract": "fortunes"},
    {"name": "debian-handbook", "package": "debian-handbook",
     "licence": "GPL-2.0+ or CC-BY-SA-3.0",
     "must_mention": ["CC-BY-SA-3.0"],
     "files": ["/usr/share/doc/debian-handbook/html/en-US/*.html"], "extract": "html"},
    {"name": "debian-reference", "package": "debian-reference-en",
     "licence": "GPL-2+", "must_mention": ["GPL-2+"],
     "files": ["/usr/share/debian-reference/*.en.html"], "extract": "html"},
    {"name": "debian-faq", "package": "debian-faq",
     "licence": "verbatim and modified copies permitted (Debian FAQ permission notice)",
     "must_mention": ["Permission is granted to copy and distribute modified versions"],
     "files": ["/usr/share/doc/debian/FAQ/*.en.html"], "extract": "html"},
    {"name": "developers-reference", "package": "developers-reference",
     "licence": "GPL-2", "must_mention": ["GPL-2"],
     "files": ["/usr/share/developers-reference/*.html"],
     "exclude": ["developers-reference.html", "genindex.html", "search.html"],
     "extract": "html"},
    {"name": "maint-guide", "package": "maint-guide",
     "licence": "GPL-2.0+", "must_mention": ["GPL-2.0+"],
     "files": ["/usr/share/doc/maint-guide/html/*.en.html"], "extract": "html"},
    {"name": "perl-doc", "package": "perl-doc",
     "licence": "GPL-1+ or Artistic", "must_mention": ["GPL-1+ or Artistic"],
     "files": ["/usr/share/perl/5.*/pod/*.pod"], "exclude_re": r"delta\.pod$",
     "extract": "pod"},
    {"name": "python3-doc", "package": "python3.11-doc",
     "licence": "PSF-2.0 (Python Software Foundation License)",
     "must_mention": ["PYTHON SOFTWARE FOUNDATION LICENSE"],
     "files": ["/usr/share/doc/python3.11/html/**/*.html"],
     "exclude_re": r"/(genindex[^/]*|search|py-modindex|_[^/]*/.*)\.html$|/_",
     "extract": "html"},
]

MIN_DOC_CHARS = 40


# ---------------------------------------------------------------- cleaning
def squash(text):
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()


def is_prose(par):
    """A paragraph of sentences rather than code, tables or lists of names."""
    words = par.split()
    if len(words) < 6:
        return False
    letters = sum(c.isalpha() or c == " " for c in par)
    return letters / len(par) >= 0.75 and re.search(r"[.?!:]", par) is not None


def document(paragraphs):
    pars = [squash(p) for p in paragraphs]
    text = "\n\n".join(p for p in pars if p)
    return unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------- extractors
def dictd_entries(path):
    """dictd text: an entry starts with an unindented headword line."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    entries, current = [], []
    for line in text.split("\n"):
        if line and not line[0].isspace() and current and not current[-1].strip():
            entries.append(current)
            current = []
        current.append(line)
    if current:
        entries.append(current)
    return entries


def paragraphs_of(lines):
    pars, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line)
        elif cur:
            pars.append(cur)
            cur = []
    if cur:
        pars.append(cur)
    return pars


GCIDE_TAG = re.compile(r"^\s*\[([^\]]*)\]\s*$")


def clean_gcide(text):
    text = re.sub(r"\\[^\\]*\\", "", text)            # pronunciations \Af*fect"\
    text = re.sub(r"\[[^\[\]]*\]", "", text)          # etymologies, [Obs.], [=a] marks
    text = re.sub(r"\{([^{}]*)\}", r"\1", text)       # cross-references
    text = re.sub(r"\s*--\s?[A-Z][A-Za-z. ']{0,30}?\.(?=\s|$)", "", text)  # --Shak.
    text = re.sub(r"(?<=\w)[\"*`](?=\w)", "", text)   # run-on words: Spir"it*less*ly
    text = re.sub(r"\s+([,;.])", r"\1", text)
    return squash(text)


def extract_gcide(path):
    docs = []
    for entry in dictd_entries(path):
        if entry[0].startswith("00-database") or entry[0].startswith("00database"):
            continue
        kept = []
        for par in paragraphs_of(entry):
            tag = GCIDE_TAG.match(par[-1])
            if not tag:
                continue  # untagged: may belong to a WordNet sense further on
            source = tag.group(1)
            if "WordNet" in source or not ("Webster" in source or "PJC" in source):
                continue
            body = " ".join(line.strip() for line in par[:-1])
            if body.startswith("Syn:"):
                continue
            body = clean_gcide(body)
            if len(body.split()) >= 3:
                kept.append(body)
        if kept:
            docs.append(document(kept))
    return docs


def extract_foldoc(path):
    docs = []
    for entry in dictd_entries(path):
        if entry[0].startswith("00"):
            continue
        kept = []
        for par in paragraphs_of(entry[1:]):
            body = " ".join(line.strip() for line in par)
            if re.fullmatch(r"\(\d{4}-\d\d-\d\d\)", body) or body.startswith("["):
                continue  # dates of the entry, bibliography
            body = re.sub(r"<[^<>]*>", "", body)                  # <programming>, e-mail
            body = re.sub(r"\{\(?(https?|ftp)://[^}]*\}\.?", "", body)
            body = re.sub(r"\{([^{}|]*)(\|[^{}]*)?\}", r"\1", body)
            body = re.sub(r"\((https?|ftp)://[^)]*\)", "", body)
            body = squash(body)
            if len(body.split()) >= 4:
                kept.append(body)
        if kept:
            docs.append(document([entry[0].strip() + ": " + kept[0]] + kept[1:]))
    return docs


def extract_fortunes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    docs = []
    for fortune in re.split(r"\n%\n", text):
        lines = [line.replace("\t", " ").rstrip() for line in fortune.strip("\n%").split("\n")]
        body = "\n".join(re.sub(r"  +", " ", line).strip() for line in lines).strip()
        if body:
            docs.append(unicodedata.normalize("NFC", body))
    return docs


class ParagraphParser(html.parser.HTMLParser):
    """Text of <p>, <dd> and <li> elements outside <pre>, navigation and scripts."""
    BLOCKS = {"p", "dd", "li", "blockquote"}
    SKIP = {"pre", "script", "style", "nav", "table", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs, self.stack, self.skip, self.buf = [], [], 0, None

    def handle_starttag(self, tag, attrs):
        # DocBook's HTML (the Debian Handbook) writes paragraphs as <div class="para">.
        block = tag in self.BLOCKS or (tag == "div" and ("class", "para") in attrs)
        if tag in self.SKIP:
            self.skip += 1
        elif block and self.skip == 0:
            self.flush()
            self.buf = []
        self.stack.append((tag, block))

    def handle_endtag(self, tag):
        if all(t != tag for t, _ in self.stack):
            return
        while self.stack:
            t, block = self.stack.pop()
            if t in self.SKIP:
                self.skip -= 1
            if block:
                self.flush()
            if t == tag:
                break

    def handle_data(self, data):
        if self.buf is not None and self.skip == 0:
            self.buf.append(data)

    def flush(self):
        if self.buf:
            self.paragraphs.append(squash(" ".join("".join(self.buf).split())))
        self.buf = None


def extract_html(path):
    parser = ParagraphParser()
    with open(path, encoding="utf-8", errors="replace") as f:
        parser.feed(f.read())
    parser.close()
    parser.flush()
    kept = [p for p in parser.paragraphs if is_prose(p)]
    return [document(kept)] if kept else []


POD_CODE = re.compile(r"[A-Z]<(<+ )?([^<>]*?)( >+)?>")


def clean_pod(text):
    for _ in range(4):  # nested formatting codes, innermost first
        text = re.sub(r"[XZ]<[^<>]*>", "", text)
        text = re.sub(r"E<([^<>]*)>", lambda m: {"gt": ">", "lt": "<", "verbar": "|", "sol": "/"}
                      .get(m.group(1), ""), text)
        text = re.sub(r"L<([^<>|]*)\|[^<>]*>", r"\1", text)
        text = re.sub(r"L<\"?([^<>\"]*)\"?>", r"\1", text)
        text = POD_CODE.sub(lambda m: m.group(2), text)
    return squash(text)


def extract_pod(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    kept, in_begin = [], False
    for par in re.split(r"\n\s*\n", text):
        if par.startswith("=begin"):
            in_begin = True
        if in_begin:
            in_begin = not par.startswith("=end") and "\n=end" not in par
            continue
        if not par or par[0].isspace() or par.startswith("="):
            continue  # verbatim (code) and commands
        body = clean_pod(" ".join(par.split()))
        if is_prose(body):
            kept.append(body)
    return [document(kept)] if kept else []


EXTRACTORS = {"gcide": extract_gcide, "foldoc": extract_foldoc, "fortunes": extract_fortunes,
              "html": extract_html, "pod": extract_pod}


# ---------------------------------------------------------------- packages
def package_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Version}", pkg],
                       capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.startswith("install ok installed"):
        return None
    return r.stdout.split("\t")[1]


def ensure_installed(packages, may_install):
    missing = [p for p in packages if package_version(p) is None]
    if not missing:
        return
    if not may_install:
        sys.exit("build_corpus: missing packages: " + " ".join(missing))
    print("build_corpus: installing " + " ".join(missing), file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + missing,
                   check=True, env=env)


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def files_of(source):
    paths = []
    for pattern in source["files"]:
        paths += sorted(glob.glob(pattern, recursive=True))
    excluded = set(source.get("exclude", []))
    paths = [p for p in paths if os.path.basename(p) not in excluded]
    if "exclude_re" in source:
        paths = [p for p in paths if not re.search(source["exclude_re"], p)]
    if not paths:
        sys.exit("build_corpus: %s: no files match %s" % (source["package"], source["files"]))
    return paths


def licence_check(source):
    path = "/usr/share/doc/%s/copyright" % source["package"]
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    for words in source["must_mention"]:
        if words not in text:
            sys.exit("build_corpus: %s does not mention '%s': check the licence" % (path, words))
    return path, sha256_bytes(data)


# ---------------------------------------------------------------- main
def count_tokens(cli, tokenizer, path):
    r = subprocess.run([cli, "train-lm", "--count-tokens", "--corpus", path,
                        "--tokenizer", tokenizer], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("build_corpus: counting tokens failed: " + r.stderr)
    return json.loads(r.stdout)["tokens"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for train.jsonl and valid.jsonl")
    ap.add_argument("--manifest", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "demo",
        "corpus_manifest.json"))
    ap.add_argument("--valid-per-mille", type=int, default=10,
                    help="documents held out for validation, per thousand (by text hash)")
    ap.add_argument("--cli", help="saescope-cli, to count tokens with the GPT-2 tokenizer")
    ap.add_argument("--tokenizer", help="tokenizer folder for --cli (vocab.json + merges.txt)")
    ap.add_argument("--no-install", action="store_true", help="fail instead of apt-get install")
    args = ap.parse_args()

    ensure_installed(sorted({s["package"] for s in SOURCES}), not args.no_install)
    os.makedirs(args.out, exist_ok=True)
    seen, train, valid, manifest_sources = set(), [], [], []
    for source in SOURCES:
        copyright_path, copyright_sha = licence_check(source)
        paths = files_of(source)
        docs = []
        for path in paths:
            docs += EXTRACTORS[source["extract"]](path)
        lines, duplicates = [], 0
        for text in docs:
            if len(text) < MIN_DOC_CHARS and source["extract"] != "fortunes":
                continue
            key = sha256_bytes(text.encode("utf-8"))
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            line = json.dumps({"text": text}, ensure_ascii=False)
            lines.append(line)
            (valid if int(key[:8], 16) % 1000 < args.valid_per_mille else train).append(line)
        blob = ("\n".join(lines) + "\n").encode("utf-8")
        manifest_sources.append({
            "source": source["name"], "package": source["package"],
            "version": package_version(source["package"]), "licence": source["licence"],
            "copyright_file": copyright_path, "copyright_sha256": copyright_sha,
            "files": source["files"], "files_read": len(paths), "documents": len(lines),
            "duplicates_dropped": duplicates, "characters": sum(len(json.loads(l)["text"]) for l in lines),
            "text_sha256": sha256_bytes(blob)})
        print("build_corpus: %-22s %7d documents, %10d characters" %
              (source["name"], len(lines), manifest_sources[-1]["characters"]), file=sys.stderr)

    splits = {}
    for name, lines in (("train", train), ("valid", valid)):
        path = os.path.join(args.out, name + ".jsonl")
        data = ("\n".join(lines) + "\n").encode("utf-8")
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
        splits[name] = {"file": name + ".jsonl", "documents": len(lines), "bytes": len(data),
                        "sha256": sha256_bytes(data)}
        if args.cli:
            splits[name]["tokens_gpt2"] = count_tokens(args.cli, args.tokenizer, path)
    manifest = {
        "description": "Training corpus of the SAEScope demo language model, rebuilt from Debian "
                       "packages by tools/demo/build_corpus.py (the text itself is not committed).",
        "debian_release": open("/etc/debian_version").read().strip(),
        "excluded": "WordNet and WordNet-derived text (GCIDE paragraphs tagged WordNet, or untagged): "
                    "WordNet is SAEScope's evaluation set.",
        "validation": "documents whose sha256 starts with a number below %d per mille of 2^32"
                      % args.valid_per_mille,
        "token_counts": "GPT-2 tokenizer, <|endoftext|> after each document" if args.cli else None,
        "splits": splits, "sources": manifest_sources}
    os.makedirs(os.path.dirname(os.path.abspath(args.manifest)), exist_ok=True)
    with open(args.manifest, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("build_corpus: wrote %s (%d train, %d valid documents) and %s" %
          (args.out, len(train), len(valid), args.manifest), file=sys.stderr)


if __name__ == "__main__":
    main()
