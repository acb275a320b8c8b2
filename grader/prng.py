"""xorshift64*: the same generator as kernel/test/prng.h, so the grader
knows every value a self-test makes from the seed it passed."""

MASK64 = (1 << 64) - 1


class Prng:
    def __init__(self, seed):
        self.state = seed & MASK64 or 0x9E3779B97F4A7C15

    def next(self):
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & MASK64
        x ^= x >> 27
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & MASK64
