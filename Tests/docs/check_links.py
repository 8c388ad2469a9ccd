#!/usr/bin/env python3
"""Checks that README.md and the Markdown files under docs/ link only to what exists.

For every Markdown link `[text](target)` (and image `![alt](target)`) outside fenced code blocks:
  - http(s) and mailto links are accepted without being fetched;
  - any other target is a path, resolved from the linking file's folder (a leading `/` from the
    repository root), which must exist inside the repository;
  - an anchor (`#section`, alone or after a Markdown file) must match a heading of that file,
    slugged as GitHub does (lower case, punctuation dropped, spaces to dashes, `-1`, `-2` for
    repeats).
Inline code that names a repository file (`docs/…`, `Tests/…`, `samples/…`, `../…` and the like,
ending in a file extension or `/`) must exist too, resolved from the repository root or from the
file's folder: documentation that points at a file a user's clone does not have is a broken link.

Prints `FILE:LINE: link to PATH: no such file` (or `…: no heading #anchor in FILE`) for each broken
one and exits 1; prints `links: N checked, 0 broken` and exits 0 otherwise.

    python3 Tests/docs/check_links.py [ROOT]
    python3 Tests/docs/check_links.py --self-test   # proves the check fails on a broken link
"""

import pathlib
import re
import subprocess
import sys
import tempfile

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# Inline code that looks like a path to a repository file: a known top folder or ../, no spaces,
# no placeholders, ending in an extension or a slash.
PATH_ROOTS = ("docs/", "Tests/", "Sources/", "samples/", "templates/", "bench/", "Benchmarks/", ".ci/", "../", "./")
PATH_LIKE = re.compile(r"^[A-Za-z0-9_.\-/]+(\.[A-Za-z0-9]+|/)$")


def slug(text, seen):
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to dashes."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text, flags=re.UNICODE)
    base = text.replace(" ", "-")
    count = seen.get(base, 0)
    seen[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def anchors(path, cache={}):
    if path not in cache:
        seen, found, fenced = {}, set(), False
        for line in path.read_text(encoding="utf-8").splitlines():
            if FENCE.match(line):
                fenced = not fenced
                continue
            match = None if fenced else HEADING.match(line)
            if match:
                found.add(slug(match.group(2), seen))
        cache[path] = found
    return cache[path]


def documents(root):
    readme = root / "README.md"
    docs = sorted((root / "docs").rglob("*.md")) if (root / "docs").is_dir() else []
    return ([readme] if readme.exists() else []) + docs


def inside(root, path):
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def check_target(root, doc, target):
    """None when `target` (a link from `doc`) exists, else the problem."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
        return None if target.lower().startswith(("http://", "https://", "mailto:")) else f"link to {target}: not a repository path or a web address"
    path_part, _, anchor = target.partition("#")
    if path_part:
        base = root if path_part.startswith("/") else doc.parent
        path = (base / path_part.lstrip("/")).resolve()
        if not inside(root, path) or not path.exists():
            return f"link to {path_part}: no such file"
    else:
        path = doc
    if anchor and path.is_file() and path.suffix.lower() == ".md" and anchor.lower() not in anchors(path):
        return f"link to {target}: no heading #{anchor} in {path.relative_to(root.resolve()).as_posix()}"
    return None


def check_code_path(root, doc, text):
    """None when inline code `text` is not a repository path or names one that exists."""
    if not text.startswith(PATH_ROOTS) or not PATH_LIKE.match(text) or "…" in text:
        return None
    candidates = [doc.parent / text] + ([] if text.startswith(("../", "./")) else [root / text])
    for candidate in candidates:
        if inside(root, candidate) and candidate.exists():
            return None
    return f"link to {text}: no such file"


def check(root):
    root = pathlib.Path(root).resolve()
    checked, broken = 0, []
    for doc in documents(root):
        fenced = False
        name = doc.relative_to(root).as_posix()
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            if FENCE.match(line):
                fenced = not fenced
                continue
            if fenced:
                continue
            spans = [m.group(2).strip() for m in CODE_SPAN.finditer(line)]
            prose = CODE_SPAN.sub("", line)
            for match in LINK.finditer(prose):
                checked += 1
                problem = check_target(root, doc, match.group(1))
                if problem:
                    broken.append(f"{name}:{number}: {problem}")
            for span in spans:
                problem = check_code_path(root, doc, span)
                if problem is not None or (span.startswith(PATH_ROOTS) and PATH_LIKE.match(span)):
                    checked += 1
                if problem:
                    broken.append(f"{name}:{number}: {problem}")
    for line in broken:
        print(line)
    print(f"links: {checked} checked, {len(broken)} broken")
    return 1 if broken else 0


def self_test():
    """The check must be able to fail: a folder with good and broken links of every kind."""
    script = pathlib.Path(__file__).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "docs").mkdir()
        (root / "docs" / "guide.md").write_text("# Guide\n\n## Two words\n\nBack to [the README](../README.md#herald).\n")
        (root / "README.md").write_text(
            "# Herald\n\nSee [the guide](docs/guide.md#two-words), [the web](https://example.com), `docs/guide.md`.\n"
        )
        good = subprocess.run([sys.executable, script, root], capture_output=True, text=True)
        if good.returncode != 0:
            print(f"self-test FAILED: a clean folder was refused:\n{good.stdout}")
            return 1
        (root / "README.md").write_text(
            "# Herald\n\n"
            "See [the guide](docs/guide.md#two-words).\n"
            "Notes in [NOTES](../shared/specs/NOTES.md) and [seeds](docs/seeds/).\n"
            "A [missing section](docs/guide.md#three-words) and `docs/missing.md`.\n"
            "```\n[inside a fence](nowhere.md)\n```\n"
        )
        bad = subprocess.run([sys.executable, script, root], capture_output=True, text=True)
        expected = [
            "README.md:4: link to ../shared/specs/NOTES.md: no such file",
            "README.md:4: link to docs/seeds/: no such file",
            "README.md:5: link to docs/guide.md#three-words: no heading #three-words in docs/guide.md",
            "README.md:5: link to docs/missing.md: no such file",
        ]
        lines = bad.stdout.splitlines()
        missing = [line for line in expected if line not in lines]
        if bad.returncode != 1 or missing or any("nowhere.md" in line for line in lines):
            print(f"self-test FAILED: exit {bad.returncode}, output:\n{bad.stdout}expected:\n" + "\n".join(expected))
            return 1
    print("links self-test: a broken link, a missing file and a missing heading each fail the check")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(check(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2]))
