"""Data collection and cleaning: import the bank's export files and account for every row.

``formats`` reads delimited text, xlsx and fixed-width files in chunks;
``columns`` names the documented column sets; ``clean`` and ``validate`` turn
raw cells into typed values or reasons; ``rejects`` writes the rows that
failed back in their own format; ``service`` is the import use case.
"""
