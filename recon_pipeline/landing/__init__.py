"""The landing zone: immutable, content-addressed copies of everything recon ingests."""
from recon_pipeline.landing.zone import LandedFile, LandingZone

__all__ = ["LandedFile", "LandingZone"]
