/** The part of @lhncbc/ucum-lhc (UCUM unit conversion, shipped with fhirpath) that bounds.ts uses. */
declare module '@lhncbc/ucum-lhc' {
  interface Conversion { status: string; toVal?: number; msg?: string[] }
  export const UcumLhcUtils: { getInstance(): { convertUnitTo(fromUnit: string, value: number, toUnit: string): Conversion } };
}
