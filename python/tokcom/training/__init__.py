"""Training of the bundled TokCom models (``tokcom-train``); imports torch."""


def main(argv=None) -> int:
    from .train import main as _main  # lazy: keep `import ...training` cheap

    return _main(argv)
