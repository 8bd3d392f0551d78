/** Topics: the gateway's status, and one stream per provider under p/<provider>/ (the broker ACL lets each provider read only its own). */
export const topics = (gatewayId: string) => {
  const base = `trellis/v1/${gatewayId}`;
  const p = (provider: string) => `${base}/p/${provider}`;
  return {
    status: `${base}/status`,
    /** every provider's stream starts here: `<providerPrefix><provider>/...` */
    providerPrefix: `${base}/p/`,
    alert: (provider: string) => `${p(provider)}/alert`,
    usage: (provider: string, deviceRef: string) => `${p(provider)}/usage/${deviceRef}`,
    maintenance: (provider: string, deviceRef: string) => `${p(provider)}/maintenance/${deviceRef}`,
    health: (provider: string) => `${p(provider)}/health`,
    commands: `${base}/p/+/cmd/+`,
    commandResult: (provider: string, requestId: string) => `${p(provider)}/cmd-result/${requestId}`,
  };
};
