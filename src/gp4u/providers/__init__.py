"""Adapters to external price sources and providers. No database, no domain imports: adapters
return plain dataclasses (`ProviderOffer`) and raise only provider errors."""
