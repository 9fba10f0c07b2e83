"""One module per command (group); :mod:`rai.cli` imports them lazily so ``rai --help`` stays fast."""
