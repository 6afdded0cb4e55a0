"""Our bank accounts and the parties we pay and are paid by: the scenario's fixed cast.

Every generated scenario books on the same two accounts (one whose bank sends camt.053, one
whose bank sends MT940, so both parsers are exercised) and trades with the same counterparties.
IBANs carry real ISO 13616 check digits, because recon validates them like a bank would.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from schwifty import IBAN

from recon_pipeline.iban import iban_valid
from recon_pipeline.scenario.config import CURRENCY
from recon_pipeline.scenario.writers import Party


def make_iban(country: str, bban: str) -> str:
    """An IBAN with its ISO 13616 check digits, computed by schwifty."""
    return str(IBAN.from_bban(country, bban))


def iban_is_valid(iban: str) -> bool:
    """The test every bank applies before accepting an IBAN (country, length, mod-97)."""
    return iban_valid(iban)


@dataclass(frozen=True)
class Account:
    """One of our bank accounts and the format its bank sends statements in."""

    key: str
    iban: str
    bic: str
    format: str                  # "camt053" | "mt940"
    currency: str = CURRENCY

    @property
    def extension(self) -> str:
        return "xml" if self.format == "camt053" else "sta"


ACCOUNT_A = Account("A", make_iban("DE", "500105170648489890"), "INGDDEFFXXX", "camt053")
ACCOUNT_B = Account("B", make_iban("NL", "INGB0007654321"), "INGBNL2A", "mt940")
ACCOUNTS = (ACCOUNT_A, ACCOUNT_B)


@dataclass(frozen=True)
class Counterparty:
    tag: str                     # short code used in our end-to-end ids
    name: str
    city: str
    iban: str
    bic: str

    @property
    def plain(self) -> bool:
        """True when every bank format reports the name unchanged (no folding, no escaping)."""
        return re.fullmatch(r"[A-Za-z0-9 .]+", self.name) is not None

    def party(self) -> Party:
        return Party(name=self.name, iban=self.iban, bic=self.bic, city=self.city)


def _cp(tag: str, name: str, city: str, country: str, bban: str, bic: str) -> Counterparty:
    return Counterparty(tag, name, city, make_iban(country, bban), bic)


# Beneficiaries and payers we do business with. Some names carry characters that XML must
# escape and MT940 cannot carry, on purpose.
COUNTERPARTIES = (
    _cp("ACME", "ACME Industrial Supplies BV", "Rotterdam", "NL", "ABNA0417164300", "ABNANL2A"),
    _cp("MULL", "Müller & Söhne GmbH", "München", "DE", "701500001005263450", "SSKMDEMM"),
    _cp("OBRI", "O'Brien <Consulting> Ltd", "Dublin", "IE", "AIBK93115212345678", "AIBKIE2D"),
    _cp("VERD", "Verdant Energy AG", "Wien", "AT", "1200000513452345", "BKAUATWW"),
    _cp("SMIT", "Smith & Sons Logistics", "Hamburg", "DE", "200400000628305100", "COBADEHH"),
    _cp("NORD", "Nordwind Spedition GmbH", "Bremen", "DE", "290501010081234567", "SBREDE22"),
    _cp("DELT", "Delta Office Furniture BV", "Utrecht", "NL", "RABO0123456789", "RABONL2U"),
    _cp("LUXF", "Lux Facility Services SARL", "Luxembourg", "LU", "0019400644750000", "BCEELULL"),
    _cp("KAFE", "Kaffeerösterei Weiß KG", "Berlin", "DE", "100500000190456712", "BELADEBE"),
    _cp("PIXL", "Pixel Forge Studios", "Amsterdam", "NL", "INGB0005567123", "INGBNL2A"),
    _cp("HANS", "Hanseatic Paper Trading GmbH", "Lübeck", "DE", "230501010001122334", "NOLADE21SHO"),
    _cp("ALPN", "Alpine Tools GmbH", "Innsbruck", "AT", "2050300000123456", "SPIHAT22"),
    _cp("CELT", "Celtic Freight Ltd", "Cork", "IE", "BOFI90001712345678", "BOFIIE2D"),
    _cp("BRUG", "Brouwerij De Brug BV", "Eindhoven", "NL", "ABNA0562390014", "ABNANL2A"),
    _cp("GRUN", "Grün & Partner \"Steuerberatung\"", "Köln", "DE", "370501980012345678", "COLSDE33"),
    _cp("ORBI", "Orbit Cloud Hosting SA", "Luxembourg", "LU", "0030001234567890", "BGLLLULL"),
    _cp("TULP", "Tulp Catering BV", "Haarlem", "NL", "RABO0398765432", "RABONL2U"),
    _cp("ZEIT", "Zeitwerk Uhren GmbH", "Stuttgart", "DE", "600501010002345678", "SOLADEST600"),
    _cp("QUAY", "Quayside Marine Services", "Galway", "IE", "AIBK93208612345600", "AIBKIE2D"),
    _cp("NOVA", "Nova Pharma Distribution BV", "Leiden", "NL", "INGB0004433221", "INGBNL2A"),
)
# Parties we have no books for: they only ever appear on the bank side.
STRANGERS = (
    _cp("JANS", "Janssen Holding BV", "Breda", "NL", "ABNA0611223344", "ABNANL2A"),
    _cp("SCHM", "Frau E. Schmidt", "Dresden", "DE", "850503000221234567", "OSDDDE81"),
    _cp("PEET", "Garage Peeters", "Venlo", "NL", "RABO0311009988", "RABONL2U"),
)

