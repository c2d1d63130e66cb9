"""Check a notebook's "Expected results" section against the outputs of its execution.

The section states each run-dependent number as a range next to the label the code prints it with:

    - the shipped conv VAE: `test ELBO` between −107 and −102 nats

means: exactly one line of the notebook's printed output contains "test ELBO", and the first number after it on
that line lies in [−107, −102]. `label` equal to 220,385 asks for that exact value. Every other digit in the section
must sit inside backticks (code, settings, labels), so no typed number can go stale without failing a test.
"""

import re

NUMBER = r"[−-]?\d+(?:,\d{3})*(?:\.\d+)?"  # 220,385 and −104.48; a comma after a number is punctuation
CLAIM = re.compile(rf"`(?P<label>[^`]+)`\s+(?:between\s+(?P<low>{NUMBER})\s+and\s+(?P<high>{NUMBER})"
                   rf"|equal to\s+(?P<exact>{NUMBER}))")


def to_float(text):
    return float(text.replace("−", "-").replace(",", ""))


def expected_section(notebook):
    """The markdown of the "## Expected results" section (up to the next "## " heading)."""
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    match = re.search(r"^## Expected results\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if match is None:
        raise AssertionError("the notebook has no '## Expected results' section")
    return match.group(1)


def printed_lines(notebook):
    """Every line the notebook printed (stream outputs and plain-text results)."""
    lines = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                lines += output.text.splitlines()
            elif output.output_type in ("execute_result", "display_data") and "text/plain" in output.get("data", {}):
                lines += output.data["text/plain"].splitlines()
    return lines


def check(notebook):
    """Return a list of problems: unmatched labels, numbers out of range, and typed numbers nobody checks."""
    section, lines = expected_section(notebook), printed_lines(notebook)
    problems, claims = [], list(CLAIM.finditer(section))
    if not claims:
        problems.append("the Expected results section states no checked number")
    for claim in claims:
        low, high = ((to_float(claim["low"]), to_float(claim["high"])) if claim["exact"] is None
                     else (to_float(claim["exact"]),) * 2)
        problems += check_printed(lines, claim["label"], low, high, claim.group().split("`", 2)[2].strip())
    unchecked = re.sub(r"`[^`]*`", "", CLAIM.sub("", section))
    for line in unchecked.splitlines():
        if re.search(r"\d", line):
            problems.append(f"a typed number that no output checks: {line.strip()!r}")
    return problems


def check_printed(lines, label, low, high, expected=None):
    """Problems (a list, empty if none) with the number printed after `label`: it must follow the label in exactly
    one printed line and lie in [low, high]. tests/result_ranges.py uses it for the ranges kept out of the notebooks."""
    matching = [line for line in lines if label in line]
    if len(matching) != 1:
        return [f"`{label}` appears in {len(matching)} printed lines, not exactly one: {matching[:3]}"]
    found = re.search(NUMBER + r"(?:e[-+]?\d+)?", matching[0].split(label, 1)[1])
    if found is None:
        return [f"no number follows `{label}` in the printed line {matching[0]!r}"]
    value = to_float(found.group())
    if not min(low, high) <= value <= max(low, high):
        return [f"`{label}` printed {value}, expected {expected or f'between {low} and {high}'}"]
    return []
