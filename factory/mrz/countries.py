"""Three-letter codes allowed for issuing states and nationalities in the MRZ.

ICAO 9303 Part 3, section 5: the ISO 3166-1 alpha-3 codes, plus the codes of
its Parts A to H (British nationality variants, Germany as D, Kosovo, the EU,
United Nations, other issuing organizations, persons without a defined
nationality, deprecated codes, the specimen state Utopia). The ISO list was
taken from ISO 3166-1 as published in Debian's iso-codes (249 codes); DEU is
left out because ICAO writes Germany as D.
"""

from __future__ import annotations

__all__ = ["COUNTRY_CODES", "is_country_code"]

_ISO_3166_1 = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
    BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
    COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP
    EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM
    GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN
    KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO
    MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER
    NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE
    PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR
    SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA
    UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
""".split()

# ICAO 9303 Part 3, section 5, Parts A-H.
_ICAO = (
    "D",  # Germany (Part A)
    "GBD", "GBN", "GBO", "GBP", "GBS",  # British nationality variants (Part A)
    "RKS",  # Kosovo (Part A)
    "EUE",  # European Union (Part B)
    "UNO", "UNA", "UNK",  # United Nations (Part C)
    "XBA", "XIM", "XCC", "XCE", "XCO", "XEC", "XPO", "XES", "XMP", "XOM", "XDC",  # other authorities (Part D)
    "XXA", "XXB", "XXC", "XXX",  # persons without a defined nationality (Part E)
    "ANT", "NTZ",  # deprecated in ISO 3166, kept for old documents (Part F)
    "UTO",  # Utopia, for specimens (Part G)
    "IAO",  # ICAO itself, master-list signing (Part H)
)

COUNTRY_CODES: frozenset[str] = frozenset(_ISO_3166_1) | frozenset(_ICAO)
"""Every code ICAO 9303 allows in the issuing-state and nationality fields."""


def is_country_code(code: str) -> bool:
    """True for an ICAO 9303 code, with or without filler padding (``"D<<"``)."""
    return code.rstrip("<") in COUNTRY_CODES
