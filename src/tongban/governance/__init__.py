"""Data governance (数据治理): the quality loop (问题数据 反馈 → 整改 → 核验), open data (开放域)
and the DCAT-AP catalog export."""
