"""The local AWS stand-in: moto in server mode, extended where moto lacks or misstates AWS behaviour."""
