/** Sample rules for the demo home and shop; written once, then the user's to edit (hot-reloaded). */
export const DEMO_RULES = `# Trellis demo rules. Edit and save: the gateway applies changes without a restart, or refuses
# a broken edit (with file:line:column) and keeps the running rules. See README "Automation rules".
scenes:
  evening:
    - {device: zigbee2mqtt_home-lamp, attribute: light, value: true}
    - {device: zigbee2mqtt_home-lamp, attribute: light_brightness, value: 40}
rules:
  - id: dairy-fridge-door-alarm
    name: Dairy fridge door open for 2 minutes
    protected: true
    triggers: [{device: shop-fridge-dairy, attribute: door, to: true, for: 2m}]
    actions:
      - {set: {device: shop-buzzer, attribute: sound, value: true}}
      - {notify: {message: "Dairy fridge door open for 2 minutes", severity: critical, device: shop-fridge-dairy}}
  - id: dairy-fridge-door-closed
    triggers: [{device: shop-fridge-dairy, attribute: door, to: false}]
    actions: [{set: {device: shop-buzzer, attribute: sound, value: false}}]
  - id: fridge-too-warm
    protected: true
    triggers: [{device: shop-fridge-drinks, attribute: temperature, above: 8, for: 5m}]
    actions: [{notify: {message: "Drinks fridge above 8 °C for 5 minutes", severity: critical, device: shop-fridge-drinks}}]
  - id: descale-reminder
    triggers: [{device: shop-coffee-1, event: fault_raised, code: descale_needed}]
    actions: [{notify: {message: "Espresso machine (counter) needs descaling", severity: warning, device: shop-coffee-1}}]
  - id: evening-lamp
    triggers: [{at: "18:00"}]
    actions: [{scene: evening}]
  - id: heat-when-cold
    triggers: [{device: home-thermostat, attribute: temperature, below: 18}]
    conditions: [{not: {time: {after: "23:00", before: "06:00"}}}]
    actions: [{set: {device: home-thermostat, attribute: setpoint, value: 21}}]
`;
