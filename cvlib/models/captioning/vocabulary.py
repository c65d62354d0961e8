"""Words <-> ids for the language model, with the start, end and padding tokens.

    vocab = Vocabulary.from_captions(captions)      # every word of the training captions
    ids = vocab.encode("small red circle")          # [START, 7, 19, 5, END]: int64 [L + 2]
    vocab.decode(ids)                               # "small red circle" (stops at END)
    batch = vocab.encode_batch(captions)            # int64 [N, T], padded with PAD after END

Id 0 is PAD (never predicted, ignored by the loss), 1 START, 2 END, then the words in sorted
order. A word not in the vocabulary is a ValueError that names it and the caption: the model
cannot say or learn a word it has no id for.
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor

PAD, START, END = "<pad>", "<start>", "<end>"


class Vocabulary:
    """A fixed list of words; see the module docstring."""

    def __init__(self, words: Iterable[str]):
        words = list(words)
        bad = [w for w in words if not isinstance(w, str) or not w or w.split() != [w] or w in (PAD, START, END)]
        if bad:
            raise ValueError(f"vocabulary words must be non-empty str without spaces and not {PAD, START, END}, "
                             f"got {bad[:5]}")
        self.words = [PAD, START, END] + sorted(set(words))
        self.index = {w: i for i, w in enumerate(self.words)}
        self.pad, self.start, self.end = 0, 1, 2

    @staticmethod
    def from_captions(captions: Iterable[str]) -> "Vocabulary":
        """The vocabulary of every word in `captions` (str, words split on spaces)."""
        captions = list(captions)
        for i, c in enumerate(captions):
            _check_caption(c, f"captions[{i}]")
        return Vocabulary(w for c in captions for w in c.split())

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __repr__(self) -> str:
        return f"Vocabulary({len(self) - 3} words + {PAD}, {START}, {END})"

    def encode(self, caption: str, where: str = "caption") -> Tensor:
        """int64 [L + 2]: START, the ids of the L words, END."""
        _check_caption(caption, where)
        unknown = [w for w in caption.split() if w not in self.index]
        if unknown:
            raise ValueError(f"{where} = {caption!r} has word(s) {unknown} that are not in the vocabulary of "
                             f"{len(self) - 3} words; build the vocabulary from captions that contain them "
                             "(Vocabulary.from_captions)")
        return torch.tensor([self.start] + [self.index[w] for w in caption.split()] + [self.end])

    def encode_batch(self, captions: list[str], where: str = "captions") -> Tensor:
        """int64 [N, T] (T = the longest caption's words + 2), each row encode(caption), PAD after END."""
        rows = [self.encode(c, f"{where}[{i}]") for i, c in enumerate(captions)]
        out = torch.full((len(rows), max((len(r) for r in rows), default=2)), self.pad, dtype=torch.int64)
        for row, ids in zip(out, rows):
            row[:len(ids)] = ids
        return out

    def decode(self, ids) -> str:
        """The words of ids (a sequence or int Tensor [T]), START and PAD skipped, up to the first END."""
        words = []
        for i in (ids.tolist() if torch.is_tensor(ids) else ids):
            i = int(i)
            if i == self.end:
                break
            if not 0 <= i < len(self):
                raise ValueError(f"id {i} is not in the vocabulary (ids are 0..{len(self) - 1})")
            if i not in (self.pad, self.start):
                words.append(self.words[i])
        return " ".join(words)


def _check_caption(caption, where: str) -> None:
    if not isinstance(caption, str):
        raise TypeError(f"{where} must be a str (a caption), got {type(caption).__name__}")
    if not caption.split():
        raise ValueError(f"{where} is empty ({caption!r}); every region needs a caption of at least one word")
