"""Customer statements: the stored cycle statement made into the page a cardholder receives.

- :mod:`cardbatch.statements.read`: the statement of an account and date as the customer
  sees it (summary fields, masked card number, one line per ledger entry of the period);
- :mod:`cardbatch.statements.render`: that statement as HTML (Jinja2) and as PDF (reportlab,
  CJK through its built-in CID font), and writing it to a file only its owner can read.
"""
