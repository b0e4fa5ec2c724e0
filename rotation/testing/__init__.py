"""Helpers for testing rotation functions: throwaway servers, a moto driver, a fake engine."""
