"""Operations: Prometheus metrics of the process."""
