"""The one error type for bad user input.

Every message names the thing, the problem and the fix, in one line, so the CLI can print it as is
(exit code 2) and the app can show it in `st.error` without a traceback.
"""


class InputError(ValueError):
    """Bad user input: a file, a flag, a widget value, a saved run."""


def bad_param(owner: str, name: str, expected: str, got: object) -> InputError:
    """scikit-learn's message shape: "The 'beta' parameter of VAEConfig must be a float >= 0. Got -1.0 instead."."""
    return InputError(f"The {name!r} parameter of {owner} must be {expected}. Got {got!r} instead.")
