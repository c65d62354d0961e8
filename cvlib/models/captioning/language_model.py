"""The language model of DenseCap: an LSTM whose first input is the region's code.

Shape shorthand: R regions, D the code / embedding / LSTM width, V the vocabulary's size (PAD,
START and END included), T the length of the token rows (START, the words, END, padding).

    lm = CaptionLSTM(V, D)
    loss = lm.loss(codes, tokens)          # codes [R, D], tokens int64 [R, T]: teacher forcing
    ids = lm.decode(codes, beam=1)         # int64 [R, L]: greedy; beam=k keeps the k best
    probs, ids = lm.trace(codes[:1])       # the next-word distribution [L, V] at every step

The inputs of the LSTM are the region's code, then START, then the words:
    inputs   code   START  w1   w2  ...  wn
    targets   -      w1    w2   w3  ...  END
and the code is given again beside every input ([input, code], 2 D wide): with the code as the
first input only, the LSTM stays for hundreds of steps on the words' frequencies before it learns
to carry the region through its state; beside every word it learns the attributes within the
few hundred steps a CPU chapter affords.
Training feeds the true words (teacher forcing) and scores every prediction with cross-entropy,
averaged over the words of all regions (PAD ignored). At test time the model feeds back its own
words: greedy decoding takes the most probable word at each step; a beam of k keeps the k most
probable sentences so far (sum of log-probabilities) and returns the best that has ended.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

PAD, START, END = 0, 1, 2          # the ids of vocabulary.Vocabulary


class CaptionLSTM(nn.Module):
    """Embedding [V, D] -> LSTM (D -> D, `layers` deep) -> Linear [D, V]; see the module docstring."""

    def __init__(self, vocab_size: int, width: int = 256, layers: int = 1):
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, width, padding_idx=PAD)
        self.lstm = nn.LSTM(2 * width, width, num_layers=layers, batch_first=True)
        self.out = nn.Linear(width, vocab_size)

    def logits(self, codes: Tensor, tokens: Tensor) -> Tensor:
        """Teacher forcing: codes [R, D], tokens int64 [R, T] (START ... END PAD ...) -> [R, T, V],
        row t the scores of the word after input t (input 0 is the code, input t > 0 tokens[t - 1])."""
        inputs = torch.cat([codes[:, None], self.embed(tokens[:, :-1])], dim=1)   # [R, T, D]
        inputs = torch.cat([inputs, codes[:, None].expand_as(inputs)], dim=2)     # [R, T, 2 D]
        return self.out(self.lstm(inputs)[0])

    def loss(self, codes: Tensor, tokens: Tensor) -> Tensor:
        """Cross-entropy per word of the targets tokens[:, 1:] (the words and END), PAD ignored;
        0 (with a gradient) when there is no region."""
        if len(codes) == 0:
            return codes.sum() * 0 + sum(p.sum() * 0 for p in self.parameters())
        logits = self.logits(codes, tokens)[:, 1:]                                 # [R, T - 1, V]
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), tokens[:, 1:].reshape(-1), ignore_index=PAD)

    def _start(self, codes: Tensor, k: int):
        """LSTM state after the code and START, each region's repeated k times: out [R k, V] log-probs."""
        _, state = self.lstm(torch.cat([codes, codes], dim=1)[:, None])
        state = tuple(s.repeat_interleave(k, dim=1) for s in state)                # [layers, R k, D]
        codes = codes.repeat_interleave(k, dim=0)                                  # [R k, D]
        start = torch.full((len(codes),), START, dtype=torch.int64, device=codes.device)
        return self._step(start, state, codes)

    def _step(self, words: Tensor, state, codes: Tensor):
        """One step: words int64 [N] and their regions' codes [N, D] in, log-probabilities of the next
        word [N, V] and the new state out."""
        out, state = self.lstm(torch.cat([self.embed(words), codes], dim=1)[:, None], state)
        return F.log_softmax(self.out(out[:, 0]), dim=-1), state

    @torch.no_grad()
    def decode(self, codes: Tensor, beam: int = 1, max_words: int = 12) -> Tensor:
        """Word ids int64 [R, L] of each region's caption (END and PAD after it); beam=1: greedy.

        Each region keeps `beam` hypotheses, scored by the sum of their words' log-probabilities;
        a hypothesis that has said END stays as it is (extended by PAD at no cost). PAD and START
        are never said, END not first (a caption has a word). After max_words + 1 steps the best hypothesis is returned."""
        r, k, v = len(codes), beam, self.vocab_size
        if r == 0:
            return torch.zeros(0, 0, dtype=torch.int64, device=codes.device)
        logp, state = self._start(codes, k)
        codes = codes.repeat_interleave(k, dim=0)                                  # [R k, D]
        scores = torch.full((r, k), float("-inf"), device=codes.device)
        scores[:, 0] = 0                                           # only one live hypothesis at first
        seqs = torch.zeros(r, k, 0, dtype=torch.int64, device=codes.device)
        done = torch.zeros(r, k, dtype=torch.bool, device=codes.device)
        never = torch.zeros(v, dtype=torch.bool, device=codes.device)
        never[[PAD, START]] = True
        finished = torch.full((v,), float("-inf"), device=codes.device)
        finished[PAD] = 0
        for step in range(max_words + 1):
            logp = logp.view(r, k, v).masked_fill(never, float("-inf"))
            if step == 0:
                logp[..., END] = float("-inf")                    # a caption has at least one word
            logp = torch.where(done[..., None], finished, logp)
            top, index = (scores[..., None] + logp).view(r, k * v).topk(k, dim=1)   # [R, k]
            origin, word = index // v, index % v                  # which hypothesis, which word
            seqs = torch.cat([seqs.gather(1, origin[..., None].expand(-1, -1, seqs.shape[-1])), word[..., None]], -1)
            scores, done = top, done.gather(1, origin) | (word == END) | (word == PAD)
            if done.all():
                break
            flat = (origin + torch.arange(r, device=codes.device)[:, None] * k).view(-1)   # [R k]
            logp, state = self._step(word.view(-1), tuple(s[:, flat] for s in state), codes[flat])
        best = torch.where(done, scores, torch.full_like(scores, float("-inf"))).argmax(1)
        best = torch.where(done.any(1), best, scores.argmax(1))  # none ended: the most probable anyway
        return seqs[torch.arange(r), best]

    @torch.no_grad()
    def trace(self, code: Tensor, max_words: int = 12) -> tuple[Tensor, list[int]]:
        """Greedy decoding of one region, code [1, D], step by step: (the next-word probabilities
        [L, V] at each step, the L chosen ids, END included)."""
        logp, state = self._start(code, 1)
        probs, ids = [], []
        for _ in range(max_words + 1):
            p = logp[0].exp()
            p[[PAD, START] + ([END] if not ids else [])] = 0
            word = int(p.argmax())
            probs.append(p / p.sum()), ids.append(word)
            if word == END:
                break
            logp, state = self._step(torch.tensor([word], device=code.device), state, code)
        return torch.stack(probs), ids
