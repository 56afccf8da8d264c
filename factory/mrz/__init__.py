"""ICAO 9303 machine-readable zones: encode, decode, check digits, names, PRC profiles.

Owns: MRZ formats (TD1, TD2, TD3, MRV-A, MRV-B, the PRC one-line permit),
check digits (scalar and vectorized), transliteration of names to the MRZ
alphabet (pinyin for Chinese names, per GB/T 28039), the PRC document profiles.

Pure functions over strings, dates and numpy arrays: imports only
``factory.errors``, numpy and pypinyin. No I/O, no clock.
"""
