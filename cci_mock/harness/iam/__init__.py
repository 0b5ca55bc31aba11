"""Authentication and authorization of the mock CCI: plain Python, no HTTP.

The HTTP layer asks these modules three questions and sends their answers as-is:

* who is calling? -- :mod:`.tokens` (IAM tokens from ``POST /v3/auth/tokens``) or
  :mod:`.signing` (APIG AK/SK signatures), both resolving to an
  :class:`.identities.Principal` declared in an identities document;
* may the caller do this? -- :mod:`.actions` maps a request to its IAM action
  (授权项分类.md) and answers CCI's documented 403 when the user's IAM permissions
  lack it; :mod:`.rbac` applies the namespace's RoleBindings when the namespace
  turned RBAC on;
* what does a refusal look like? -- :mod:`.errors` holds the API gateway's and IAM's
  error bodies as data.

Nothing here reads a clock or a random source of its own: callers pass ``now`` and
token factories, so the mock's clock drives token expiry and signature skew.
"""
