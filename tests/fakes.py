"""Stand-ins that make a test's verdict independent of the machine it runs on."""


class FakeClock:
    """A stand-in for time.perf_counter that advances by `step` seconds on every call, however fast the machine is.

    fit reads the clock once before and once after each epoch, so with this clock every epoch lasts exactly `step`.
    """

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now
