export { collectReport, type DeviceReport, type ReportData } from './report-data.js';
export { renderReport } from './render-html.js';
export { barChart, lineChart, type LineSeries } from './svg-charts.js';
