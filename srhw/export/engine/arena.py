"""The engine's DDR arena: where each feature map lives. Offsets are in units of round_up(H*W, beat) bytes (H x W =
the LR input), so one program serves every input size; a map's space is reused once nobody reads it (first fit, in
graph order: deterministic)."""


class Arena:
    """First-fit allocator over units of H*W bytes, with merging of freed neighbours."""

    def __init__(self):
        self.free: list[list[int]] = []  # sorted [start, size]
        self.top = 0  # end of the space in use
        self.peak = 0  # arena size: the highest top ever

    def alloc(self, size: int) -> int:
        for i, (s, n) in enumerate(self.free):
            if n >= size:
                if n == size:
                    self.free.pop(i)
                else:
                    self.free[i] = [s + size, n - size]
                return s
        s, self.top = self.top, self.top + size
        self.peak = max(self.peak, self.top)
        return s

    def release(self, start: int, size: int):
        self.free.append([start, size])
        self.free.sort()
        merged = []
        for s, n in self.free:
            if merged and merged[-1][0] + merged[-1][1] == s:
                merged[-1][1] += n
            else:
                merged.append([s, n])
        if merged and merged[-1][0] + merged[-1][1] == self.top:  # give the top back
            self.top = merged.pop()[0]
        self.free = merged
