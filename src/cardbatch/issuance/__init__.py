"""Batch card opening (批量开卡): card numbers, card accounts, embossing and result files.

- :mod:`.numbers`: card numbers from a BIN and a serial (Luhn), expiry, statement day (pure).
- :mod:`.serials`: named counters allocated inside the caller's transaction.
- :mod:`.service`: issuing the approved applications of a batch, chunk by chunk.
- :mod:`.files`: the embossing file for the card bureau and the operator result file.
- :mod:`.activation`: a new card stays inactive until activated.
"""
