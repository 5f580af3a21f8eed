"""smetsnet: a national smart-metering communications network in the style of GB's DCC."""

__version__ = "0.1.0"
