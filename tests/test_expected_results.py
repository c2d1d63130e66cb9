"""The checker of "Expected results" sections catches every way a typed number can go wrong."""

import nbformat

from . import expected_results


def notebook(section, printed):
    cells = [nbformat.v4.new_markdown_cell("# 99 · x"), nbformat.v4.new_code_cell("print()"),
             nbformat.v4.new_markdown_cell(f"## Expected results\n\n{section}\n\n## Next\n\nsee 07")]
    cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    return nbformat.v4.new_notebook(cells=cells)


def test_numbers_in_range_and_exact_values_pass():
    book = notebook("- `test ELBO` between −107 and −102 nats; `parameters:` equal to 220,385 (with `K = 1000`)",
                    "test ELBO -104.48 = reconstruction -78.91\nparameters: 220,385\n")
    assert expected_results.check(book) == []


def test_a_number_out_of_range_fails_with_what_was_printed():
    book = notebook("- `test ELBO` between −107 and −102", "test ELBO -101.50\n")
    assert expected_results.check(book) == ["`test ELBO` printed -101.5, expected between −107 and −102"]


def test_a_label_printed_twice_or_never_fails():
    book = notebook("- `ELBO` between −107 and −102; `gap` between 1 and 2", "test ELBO -104\ntrain ELBO -98\n")
    problems = expected_results.check(book)
    assert any("`ELBO` appears in 2 printed lines" in problem for problem in problems)
    assert any("`gap` appears in 0 printed lines" in problem for problem in problems)


def test_a_typed_number_outside_a_claim_fails():
    book = notebook("- `test ELBO` between −107 and −102, and the KL is about 25.6 nats", "test ELBO -104\n")
    assert expected_results.check(book) == [
        "a typed number that no output checks: '- , and the KL is about 25.6 nats'"]


def test_the_section_ends_at_the_next_heading():
    book = notebook("- `test ELBO` between −107 and −102", "test ELBO -104\n")  # "## Next ... 07" is not checked
    assert expected_results.check(book) == []
