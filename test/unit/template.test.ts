import { describe, expect, it } from 'vitest';
import { compileTemplate, MISSING, TemplateError } from '../../drivers/mqtt/template.ts';

const render = (source: string, payload: string) => {
  const t = compileTemplate(source);
  return t.render(payload, t.usesJson ? JSON.parse(payload) : undefined);
};

describe('value templates', () => {
  it('reads value_json by dot and bracket paths, as Zigbee2MQTT and Tasmota write them', () => {
    expect(render('{{ value_json.temperature }}', '{"temperature":21.5}')).toBe(21.5);
    expect(render("{{value_json['ENERGY']['Power']}}", '{"ENERGY":{"Power":87}}')).toBe(87);
    expect(render('{{ value_json["a b"].c }}', '{"a b":{"c":"x"}}')).toBe('x');
    expect(render('{{ value_json.list[1] }}', '{"list":[5,6]}')).toBe(6);
  });

  it('returns the raw payload for {{ value }}', () => {
    expect(render('{{ value }}', '21.5')).toBe('21.5');
    expect(render('{{value}}', 'ON')).toBe('ON');
  });

  it('applies the supported filters', () => {
    expect(render('{{ value_json.t | float | round(1) }}', '{"t":"21.46"}')).toBe(21.5);
    expect(render('{{ value | int }}', '42.9')).toBe(42);
    expect(render('{{ value | float }}', 'junk')).toBe(0);
    expect(render('{{ value_json.s | lower }}', '{"s":"ON"}')).toBe('on');
    expect(render('{{ value | trim | upper }}', '  on ')).toBe('ON');
  });

  it('returns MISSING for absent keys instead of throwing', () => {
    expect(render('{{ value_json.a.b }}', '{"a":1}')).toBe(MISSING);
    expect(render('{{ value_json.x }}', '{"y":1}')).toBe(MISSING);
  });

  it('rejects what it does not understand, naming the template', () => {
    for (const bad of ['{{ value_json.t * 10 }}', 'plain text', '{{ states("sensor.x") }}', '{{ value_json.t | tojson }}', '{{ value.x }}']) {
      expect(() => compileTemplate(bad), bad).toThrow(TemplateError);
    }
    expect(() => compileTemplate('{{ value_json.t | tojson }}')).toThrow(/unknown filter "tojson"/);
  });
});
