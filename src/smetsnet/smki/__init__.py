"""SMKI: certificates and key stores of the Smart Metering Key Infrastructure."""
