"""The corpus files: one sample per line, "#" lines are comments, \\n and \\t are escapes."""

from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def load(name: str) -> list[str]:
    samples = []
    for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            samples.append(line.replace("\\n", "\n").replace("\\t", "\t"))
    return samples
