"""The HTTP service and command line of ecrn-kg."""
