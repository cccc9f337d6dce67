"""datahub: the public data platform — catalog (目录, 分级分类), sharing by approval and by
consent, the exchange gateway with masking and audit."""
