"""Economics: contracts (PPAs, battery services, green supply agreements), direct-line fees,
monthly settlement with statements per tenant and contract, what-ifs (docs/settlement.md)."""
