"""What builds, stamps and serves the series, and that no notebook imports: the book site (book.py, render.py), the
shared cells and tables stamped from one template (series.py), and JupyterLab's kernel connection (lab_server.py).
The Makefile runs them (`make html`, `make lab`, `make bench`); vae_helpers holds what the notebooks import."""
