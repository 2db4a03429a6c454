{#- The survey definitions (include/cxw/sources/SCHEMAS.md section 4, the files
    sources/survey/surveys/<survey_id>.json): which export column of which survey holds the
    NPS, CSAT, CES answer and the free-text comment, with each scale. A new survey is added
    here; staging maps the answers from this table only. -#}
{% macro voc_survey_definitions() -%}
    {{ return([
        {'survey_id': 'SV_3KpR7nT2xQ9mWzA', 'touchpoint': 'relationship',
         'nps': {'column': 'QID1', 'min': 0, 'max': 10},
         'comment': 'QID2_TEXT'},
        {'survey_id': 'SV_8fLc2VbN6yHq4Ju', 'touchpoint': 'post_purchase',
         'csat': {'column': 'QID1', 'min': 1, 'max': 5},
         'comment': 'QID2_TEXT'},
        {'survey_id': 'SV_0aZx5EwD1gTs7Ro', 'touchpoint': 'post_support',
         'csat': {'column': 'QID1', 'min': 1, 'max': 5},
         'ces': {'column': 'QID2', 'min': 1, 'max': 7},
         'comment': 'QID3_TEXT'},
    ]) }}
{%- endmacro %}

{#- the numeric answer to the question of `question_type` (nps, csat, ces) of each survey;
    null when the survey has no such question, the answer is empty, not a number, or outside
    the question's scale -#}
{% macro voc_survey_score(answers, survey_id, question_type) -%}
    case {{ survey_id }}
    {%- for survey in voc_survey_definitions() if question_type in survey %}
        {%- set q = survey[question_type] %}
        {%- set answer %}({{ answers }} ->> '{{ q.column }}'){% endset %}
        when '{{ survey.survey_id }}' then
            case
                when btrim({{ answer }}) ~ '^[0-9]+(\.[0-9]+)?$' then
                    case
                        when btrim({{ answer }})::numeric between {{ q.min }} and {{ q.max }}
                            then btrim({{ answer }})::numeric
                    end
            end
    {%- endfor %}
    end
{%- endmacro %}

{#- the free-text comment of each survey (trimmed; empty -> null) -#}
{% macro voc_survey_comment(answers, survey_id) -%}
    case {{ survey_id }}
    {%- for survey in voc_survey_definitions() if 'comment' in survey %}
        when '{{ survey.survey_id }}' then nullif(btrim({{ answers }} ->> '{{ survey.comment }}'), '')
    {%- endfor %}
    end
{%- endmacro %}

{#- the touchpoint each survey is sent at -#}
{% macro voc_survey_touchpoint(survey_id) -%}
    case {{ survey_id }}
    {%- for survey in voc_survey_definitions() %}
        when '{{ survey.survey_id }}' then '{{ survey.touchpoint }}'
    {%- endfor %}
    end
{%- endmacro %}
